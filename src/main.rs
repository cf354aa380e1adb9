//! Entry point Trunk builds: mounts the app.
fn main() {
    meshmeet::start();
}
