//! `[store]`: how much memory the database may keep for its pages.

use crate::config::defaults::{DEFAULT_STORE_CACHE_MB, MAX_STORE_CACHE_MB};
use crate::config::raw::RawStore;
use crate::config::{ConfigError, StoreConfig, invalid};

/// `[store]` checked: a cache of 1 MiB to [`MAX_STORE_CACHE_MB`].
pub(super) fn store_from_raw(raw: RawStore) -> Result<StoreConfig, ConfigError> {
    let cache_mb = raw.cache_mb.unwrap_or(DEFAULT_STORE_CACHE_MB);
    if !(1..=MAX_STORE_CACHE_MB).contains(&cache_mb) {
        return Err(invalid(
            "store.cache_mb",
            format!("must be between 1 and {MAX_STORE_CACHE_MB} (MiB)"),
        ));
    }
    Ok(StoreConfig { cache_mb })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, StoreConfig};

    /// The error for `toml`, which must be refused.
    fn refused(toml: &str) -> String {
        match Config::from_toml(toml) {
            Err(e @ ConfigError::Invalid { .. }) => e.to_string(),
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn the_cache_defaults_to_the_measured_size_and_takes_the_file_s() {
        let default = Config::from_toml("").unwrap();
        assert_eq!(default.store, StoreConfig::default());
        let set = Config::from_toml("[store]\ncache_mb = 64\n").unwrap();
        assert_eq!(set.store.cache_mb, 64);
    }

    #[test]
    fn a_cache_out_of_range_is_refused_by_its_key() {
        for bad in ["0", "1025"] {
            let error = refused(&format!("[store]\ncache_mb = {bad}\n"));
            assert!(error.contains("store.cache_mb"), "{error}");
        }
        assert!(Config::from_toml("[store]\ncache_mb = 1\n").is_ok());
        assert!(Config::from_toml("[store]\ncache_mb = 1024\n").is_ok());
    }
}
