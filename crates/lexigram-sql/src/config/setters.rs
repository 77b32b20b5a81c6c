//! Chainable `with_*` setters of the `#[non_exhaustive]` config structs, which code outside
//! this crate cannot build with a struct literal: `PoolConfig::default().with_max_size(20)`.

/// `with_setters!(Type { with_name => field: Type, … })` writes one documented setter per
/// field that replaces it and returns the value.
macro_rules! with_setters {
    ($ty:ident { $($setter:ident => $field:ident: $field_ty:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](", stringify!($ty), "::",
                    stringify!($field), ") and returns the changed value.")]
                #[must_use]
                pub fn $setter(mut self, $field: $field_ty) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

pub(crate) use with_setters;
