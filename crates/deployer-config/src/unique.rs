//! A map deserializer that rejects duplicate keys (serde maps silently keep the last).
//!
//! The duplicate is detected while the key itself is being deserialized, so the YAML
//! deserializer attaches the key's line and column to the error and
//! `serde_path_to_error` records the key in the path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

/// Marker that starts the message of a duplicate-key error (recognised by diagnose).
pub(crate) const DUPLICATE_KEY: &str = "duplicate key `";

pub(crate) fn map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: de::Deserialize<'de>,
{
    deserializer.deserialize_map(UniqueMap(PhantomData))
}

struct UniqueMap<V>(PhantomData<V>);

impl<'de, V: de::Deserialize<'de>> Visitor<'de> for UniqueMap<V> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of names to settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut out = BTreeMap::new();
        while let Some(key) = access.next_key_seed(NewKey { seen: &seen })? {
            let value = access.next_value()?;
            seen.insert(key.clone());
            out.insert(key, value);
        }
        Ok(out)
    }
}

struct NewKey<'s> {
    seen: &'s BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for NewKey<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NewKey<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.seen.contains(v) {
            return Err(E::custom(format_args!("{DUPLICATE_KEY}{v}` appears twice")));
        }
        Ok(v.to_owned())
    }

    // Unquoted numbers and booleans used as names (`2024:`) arrive as scalars of
    // another type; they are accepted as their text so validation can judge the name.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }
}
