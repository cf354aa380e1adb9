//! End-to-end harness: starts the relay and headless browsers, and drives them over WebDriver.
