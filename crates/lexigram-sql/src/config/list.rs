//! Lists in config that may also arrive as maps of list indices: environment variables such as
//! `LEX_SQL__BACKENDS__0__NAME` or `LEX_SQL__BACKEND__REPLICAS__0__URL` give `{"0": …}`.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A list, or a map of list indices (how `LEX_SQL__BACKEND__REPLICAS__0__URL` arrives).
pub(crate) fn deserialize_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct List<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            Ok(out)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut items: Vec<(usize, T)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let index = key.parse::<usize>().map_err(|_| {
                    de::Error::custom(format!(
                        "`{key}` is not a list index: this is a list (0, 1, …)"
                    ))
                })?;
                items.push((index, map.next_value()?));
            }
            items.sort_by_key(|(index, _)| *index);
            Ok(items.into_iter().map(|(_, item)| item).collect())
        }
    }

    deserializer.deserialize_any(List(PhantomData))
}
