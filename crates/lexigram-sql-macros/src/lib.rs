//! `#[derive(Entity)]` and `embed_migrations!` for lexigram-sql. Use them through
//! `lexigram_sql::Entity` and `lexigram_sql::embed_migrations!`; the attributes are documented
//! on the `lexigram_sql::repository` module.

mod embed;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Type, parse_macro_input};

/// Derives `lexigram_sql::repository::Entity` for a struct with named fields.
///
/// Struct attribute: `#[entity(table = "name")]` (default: snake_case of the struct name plus
/// `s`). Field attributes: `key`, `key, generated`, `version` (`i64`/`i32`), `soft_delete`
/// (`Option<DateTime<Utc>>`), `rename = "column"`, `skip`. Exactly one field must be the key.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Embeds migration files in the binary; see `lexigram_sql::embed_migrations!`, which
/// re-exports this macro and documents it.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let paths = parse_macro_input!(input as embed::Paths);
    match embed::expand(&paths) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct FieldAttrs {
    key: bool,
    generated: bool,
    version: bool,
    soft_delete: bool,
    skip: bool,
    rename: Option<String>,
}

struct Column {
    ident: syn::Ident,
    name: String,
    span: Span,
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            let flag = |set: &mut bool, name: &str| {
                if *set {
                    Err(meta.error(format!("`{name}` given twice")))
                } else {
                    *set = true;
                    Ok(())
                }
            };
            if meta.path.is_ident("key") {
                flag(&mut out.key, "key")
            } else if meta.path.is_ident("generated") {
                flag(&mut out.generated, "generated")
            } else if meta.path.is_ident("version") {
                flag(&mut out.version, "version")
            } else if meta.path.is_ident("soft_delete") {
                flag(&mut out.soft_delete, "soft_delete")
            } else if meta.path.is_ident("skip") {
                flag(&mut out.skip, "skip")
            } else if meta.path.is_ident("rename") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`rename` needs a column name"));
                }
                out.rename = Some(lit.value());
                Ok(())
            } else {
                Err(meta.error(
                    "unknown entity attribute; expected one of: key, generated, version, soft_delete, rename = \"..\", skip",
                ))
            }
        })?;
    }
    let span = field.span();
    if out.generated && !out.key {
        return Err(syn::Error::new(
            span,
            "`generated` only applies to the key: write `#[entity(key, generated)]`",
        ));
    }
    if out.skip && (out.key || out.version || out.soft_delete || out.rename.is_some()) {
        return Err(syn::Error::new(
            span,
            "a `skip` field is not stored and cannot have other entity attributes",
        ));
    }
    let roles = [out.key, out.version, out.soft_delete]
        .iter()
        .filter(|b| **b)
        .count();
    if roles > 1 {
        return Err(syn::Error::new(
            span,
            "a field can be only one of `key`, `version`, `soft_delete`",
        ));
    }
    Ok(out)
}

fn table_name(input: &DeriveInput) -> syn::Result<String> {
    let mut table = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`table` needs a table name"));
                }
                table = Some(lit.value());
                Ok(())
            } else {
                Err(meta.error("unknown entity attribute on the struct; expected `table = \"..\"`"))
            }
        })?;
    }
    Ok(table.unwrap_or_else(|| format!("{}s", snake_case(&input.ident.to_string()))))
}

/// `OrderLine` → `order_line`, `HTTPLog` → `http_log`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Entity)] does not support generic structs",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[derive(Entity)] only works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "#[derive(Entity)] only works on structs with named fields",
        ));
    };
    let table = table_name(input)?;

    let mut columns: Vec<Column> = Vec::new();
    let mut skipped: Vec<syn::Ident> = Vec::new();
    let (mut key, mut key_generated, mut version, mut soft_delete) = (None, false, None, None);
    for field in &named.named {
        let attrs = field_attrs(field)?;
        let Some(fident) = field.ident.clone() else {
            continue;
        };
        if attrs.skip {
            skipped.push(fident);
            continue;
        }
        let index = columns.len();
        if attrs.key {
            if key.is_some() {
                return Err(syn::Error::new(
                    field.span(),
                    "only one field can be `#[entity(key)]` (composite keys are not supported)",
                ));
            }
            key = Some(index);
            key_generated = attrs.generated;
        }
        if attrs.version {
            if version.is_some() {
                return Err(syn::Error::new(
                    field.span(),
                    "only one field can be `#[entity(version)]`",
                ));
            }
            let ok = last_segment(&field.ty)
                .is_some_and(|s| s.arguments.is_none() && (s.ident == "i64" || s.ident == "i32"));
            if !ok {
                return Err(syn::Error::new(
                    field.ty.span(),
                    "unsupported type for `#[entity(version)]`: expected `i64` or `i32`",
                ));
            }
            version = Some(index);
        }
        if attrs.soft_delete {
            if soft_delete.is_some() {
                return Err(syn::Error::new(
                    field.span(),
                    "only one field can be `#[entity(soft_delete)]`",
                ));
            }
            if last_segment(&field.ty).is_none_or(|s| s.ident != "Option") {
                return Err(syn::Error::new(
                    field.ty.span(),
                    "unsupported type for `#[entity(soft_delete)]`: expected `Option<DateTime<Utc>>`",
                ));
            }
            soft_delete = Some(index);
        }
        let name = attrs
            .rename
            .unwrap_or_else(|| fident.to_string().trim_start_matches("r#").to_string());
        if let Some(dup) = columns.iter().find(|c| c.name == name) {
            return Err(syn::Error::new(
                field.span(),
                format!("column `{name}` is already used by field `{}`", dup.ident),
            ));
        }
        columns.push(Column {
            ident: fident,
            name,
            span: field.ty.span(),
        });
    }
    let Some(key) = key else {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "entity `{ident}` has no key: mark its primary-key field `#[entity(key)]` (or `#[entity(key, generated)]` if the database generates it)"
            ),
        ));
    };

    let sql = quote!(::lexigram_sql);
    let name = ident.to_string();
    let metas = columns.iter().map(|c| {
        let col = &c.name;
        let field = c.ident.to_string();
        quote!(#sql::repository::ColumnMeta { name: #col, field: #field })
    });
    let opt = |o: Option<usize>| match o {
        Some(i) => quote!(::core::option::Option::Some(#i)),
        None => quote!(::core::option::Option::None),
    };
    let (version_t, soft_t) = (opt(version), opt(soft_delete));
    let col_names: Vec<&String> = columns.iter().map(|c| &c.name).collect();
    let indexes: Vec<usize> = (0..columns.len()).collect();
    // Spanned at each field's type, so a type without conversions is reported on that field.
    let to_value: Vec<TokenStream2> = columns
        .iter()
        .map(|c| {
            let f = &c.ident;
            quote_spanned!(c.span=> #sql::ToValue::to_value(&self.#f))
        })
        .collect();
    let into_value = columns.iter().map(|c| {
        let f = &c.ident;
        quote_spanned!(c.span=> #sql::Value::from(self.#f))
    });
    let read = columns.iter().zip(&indexes).map(|(c, i)| {
        let f = &c.ident;
        quote_spanned!(c.span=> #f: row.get_at(#i)?)
    });
    let take = columns.iter().zip(&indexes).map(|(c, i)| {
        let f = &c.ident;
        quote_spanned!(c.span=> #f: row.take_at(#i)?)
    });
    let decode = columns.iter().zip(&col_names).map(|(c, n)| {
        let f = &c.ident;
        quote_spanned!(c.span=> self.#f = #sql::repository::__private::decode(value, #n)?)
    });

    Ok(quote! {
        #[automatically_derived]
        impl #sql::repository::Entity for #ident {
            fn meta() -> &'static #sql::repository::EntityMeta {
                static META: #sql::repository::EntityMeta = #sql::repository::EntityMeta {
                    name: #name,
                    table: #table,
                    columns: &[#(#metas),*],
                    key: #key,
                    key_generated: #key_generated,
                    version: #version_t,
                    soft_delete: #soft_t,
                    cache: #sql::repository::SqlCache::new(),
                };
                &META
            }

            fn to_values(&self) -> ::std::vec::Vec<#sql::Value> {
                ::std::vec![#(#to_value),*]
            }

            fn into_values(self) -> ::std::vec::Vec<#sql::Value> {
                ::std::vec![#(#into_value),*]
            }

            fn from_row(row: &#sql::Row) -> #sql::Result<Self> {
                ::core::result::Result::Ok(Self {
                    #(#read,)*
                    #(#skipped: ::core::default::Default::default(),)*
                })
            }

            fn from_row_owned(mut row: #sql::Row) -> #sql::Result<Self> {
                ::core::result::Result::Ok(Self {
                    #(#take,)*
                    #(#skipped: ::core::default::Default::default(),)*
                })
            }

            fn get_column(&self, index: usize) -> #sql::Value {
                match index {
                    #(#indexes => #to_value,)*
                    _ => #sql::Value::Null,
                }
            }

            fn set_column(&mut self, index: usize, value: &#sql::Value) -> #sql::Result<()> {
                match index {
                    #(#indexes => #decode,)*
                    _ => {}
                }
                ::core::result::Result::Ok(())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_rule() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("OrderLine"), "order_line");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Item2Tag"), "item2_tag");
    }
}
