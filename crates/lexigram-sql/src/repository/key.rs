//! [`Key`]: what [`Repository::find_one`](super::Repository::find_one) takes — one value for a
//! one-column primary key, a tuple for a composite key.

use crate::value::Value;

/// A primary-key value: anything that converts into a [`Value`] for a one-column key, or a
/// tuple of two to four such values for a composite key, in the key columns' field order.
///
/// ```
/// use lexigram_sql::repository::Key;
/// use lexigram_sql::Value;
/// assert_eq!(7i64.into_key().as_slice(), [Value::Int(7)]);
/// assert_eq!((7i64, "en").into_key().as_slice(), [Value::Int(7), Value::Text("en".into())]);
/// ```
pub trait Key {
    /// The key's values, in key-column order.
    fn into_key(self) -> KeyValues;
}

/// The values of a primary key. One value is held inline (no allocation), as the one-column
/// key is by far the most common.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValues(Repr);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    One([Value; 1]),
    Many(Vec<Value>),
}

impl KeyValues {
    /// A key of one value.
    pub fn one(value: Value) -> KeyValues {
        KeyValues(Repr::One([value]))
    }

    /// A key of several values, in key-column order.
    pub fn many(values: Vec<Value>) -> KeyValues {
        match <[Value; 1]>::try_from(values) {
            Ok(one) => KeyValues(Repr::One(one)),
            Err(values) => KeyValues(Repr::Many(values)),
        }
    }

    /// The values `value(k)` of the key positions `keys`: inline for one key column, a vector
    /// for several.
    pub(crate) fn collect(keys: &[usize], mut value: impl FnMut(usize) -> Value) -> KeyValues {
        match keys {
            [k] => KeyValues::one(value(*k)),
            _ => KeyValues(Repr::Many(keys.iter().map(|&k| value(k)).collect())),
        }
    }

    /// The values, in key-column order.
    pub fn as_slice(&self) -> &[Value] {
        match &self.0 {
            Repr::One(v) => v,
            Repr::Many(v) => v,
        }
    }

    /// The values, mutable (to convert them to the columns' types).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [Value] {
        match &mut self.0 {
            Repr::One(v) => v,
            Repr::Many(v) => v,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True for a key of no values (never built by [`Key`]).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

impl<T: Into<Value>> Key for T {
    fn into_key(self) -> KeyValues {
        KeyValues::one(self.into())
    }
}

impl Key for KeyValues {
    fn into_key(self) -> KeyValues {
        self
    }
}

macro_rules! tuple_key {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Into<Value>),+> Key for ($($t,)+) {
            fn into_key(self) -> KeyValues {
                KeyValues(Repr::Many(vec![$(self.$i.into()),+]))
            }
        }
    };
}

tuple_key!(A 0, B 1);
tuple_key!(A 0, B 1, C 2);
tuple_key!(A 0, B 1, C 2, D 3);
