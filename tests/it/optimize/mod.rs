//! The optimizer: the driver, rule firings, fixtures and properties.

mod driver;
mod firings;
mod fixtures;
mod props;
