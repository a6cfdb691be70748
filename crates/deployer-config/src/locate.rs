//! Maps a field path (`services.api.cluster`) back to a line and column of the YAML text.
//!
//! The YAML deserializer attaches the position of the node being read to any error
//! raised while reading it. The locator walks the document along the path and raises a
//! sentinel error exactly at the target node, then reads the position off that error.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A list index (0-based).
    Index(usize),
}

/// A field path, displayed like `services.api.paths[0]`; the root is `.`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        FieldPath(segs)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }

    pub fn parent(&self) -> Self {
        let mut segs = self.0.clone();
        segs.pop();
        FieldPath(segs)
    }

    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The value at the path.
    Value,
    /// The key (last segment) of the path, its `nth` occurrence (1-based; 2 finds a
    /// duplicate).
    Key { nth: usize },
}

const SENTINEL: &str = "\u{0}deployer-config-locate\u{0}";

/// 1-based line and column of the node at `path`, if the text has it.
pub fn locate(text: &str, path: &FieldPath, target: Target) -> Option<(usize, usize)> {
    if let (Target::Key { .. }, true) = (target, path.0.is_empty()) {
        return Some((1, 1));
    }
    let de = yaml_serde::Deserializer::from_str(text);
    // Only the first document matters; we never get past the target anyway.
    let seed = Walk {
        rest: &path.0,
        target,
    };
    match seed.deserialize(de) {
        Ok(()) => None,
        Err(err) => {
            if err.to_string().contains(SENTINEL) {
                err.location().map(|l| (l.line(), l.column()))
            } else {
                None
            }
        }
    }
}

struct Walk<'p> {
    rest: &'p [Seg],
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.rest.split_first() {
            None => Err(de::Error::custom(SENTINEL)),
            Some((Seg::Index(n), rest)) => {
                for _ in 0..*n {
                    if seq.next_element::<IgnoredAny>()?.is_none() {
                        return Ok(());
                    }
                }
                let found = seq.next_element_seed(Walk {
                    rest,
                    target: self.target,
                })?;
                if found.is_some() {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                }
                Ok(())
            }
            Some((Seg::Key(_), _)) => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(())
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((seg, rest)) = self.rest.split_first() else {
            return Err(de::Error::custom(SENTINEL));
        };
        let wanted = match seg {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        };
        let key_target = rest.is_empty() && matches!(self.target, Target::Key { .. });
        let nth = match self.target {
            Target::Key { nth } => nth.max(1),
            Target::Value => 1,
        };
        let mut seen = 0usize;
        while let Some(matched) = map.next_key_seed(KeySeed {
            wanted,
            error_on_match: key_target && seen + 1 == nth,
        })? {
            if matched {
                seen += 1;
                if !key_target {
                    map.next_value_seed(Walk {
                        rest,
                        target: self.target,
                    })?;
                    continue;
                }
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

impl Walk<'_> {
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        if self.rest.is_empty() {
            Err(E::custom(SENTINEL))
        } else {
            Ok(())
        }
    }
}

/// Reads a key; answers whether it is the wanted one (raising the sentinel at the key
/// when asked to).
struct KeySeed<'k> {
    wanted: Option<&'k str>,
    error_on_match: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl KeySeed<'_> {
    fn check<E: de::Error>(&self, key: &str) -> Result<bool, E> {
        let matched = self.wanted == Some(key);
        if matched && self.error_on_match {
            return Err(E::custom(SENTINEL));
        }
        Ok(matched)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.check(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(IgnoredAny).map(|_| false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "services:\n  api:\n    paths:\n      - a\n      - b\n    image: x\n  api2: {paths: [c]}\n";

    fn path(segs: &[Seg]) -> FieldPath {
        FieldPath(segs.to_vec())
    }

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }

    #[test]
    fn finds_values_keys_and_list_items() {
        let image = path(&[key("services"), key("api"), key("image")]);
        assert_eq!(locate(TEXT, &image, Target::Value), Some((6, 12)));
        assert_eq!(locate(TEXT, &image, Target::Key { nth: 1 }), Some((6, 5)));
        let second = path(&[key("services"), key("api"), key("paths"), Seg::Index(1)]);
        assert_eq!(locate(TEXT, &second, Target::Value), Some((5, 9)));
        let flow = path(&[key("services"), key("api2"), key("paths")]);
        assert_eq!(locate(TEXT, &flow, Target::Value), Some((7, 17)));
    }

    #[test]
    fn missing_paths_give_none() {
        let nowhere = path(&[key("services"), key("web")]);
        assert_eq!(locate(TEXT, &nowhere, Target::Value), None);
        let past_end = path(&[key("services"), key("api"), key("paths"), Seg::Index(9)]);
        assert_eq!(locate(TEXT, &past_end, Target::Value), None);
        assert_eq!(locate("{{{", &nowhere, Target::Value), None);
    }

    #[test]
    fn nth_key_finds_duplicates() {
        let text = "a: 1\nb: 2\na: 3\n";
        let a = path(&[key("a")]);
        assert_eq!(locate(text, &a, Target::Key { nth: 1 }), Some((1, 1)));
        assert_eq!(locate(text, &a, Target::Key { nth: 2 }), Some((3, 1)));
    }

    #[test]
    fn displays_like_serde_path_to_error() {
        let p = FieldPath::root()
            .key("services")
            .key("api")
            .key("paths")
            .index(0);
        assert_eq!(p.to_string(), "services.api.paths[0]");
        assert_eq!(FieldPath::root().to_string(), ".");
    }
}
