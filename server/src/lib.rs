//! The meshmeet relay.
