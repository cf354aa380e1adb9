//! The relay binary: configuration, logging, serving.
fn main() {}
