//! The optimizer: the driver, rule firings, fixtures and properties.

mod driver;
mod firings;
pub(crate) mod fixtures;
mod props;
