//! `#[derive(Entity)]`, `#[derive(FromRow)]` and `embed_migrations!` for lexigram-sql. Use
//! them through `lexigram_sql::Entity`, `lexigram_sql::FromRow` and
//! `lexigram_sql::embed_migrations!`; the attributes are documented on the
//! `lexigram_sql::repository` module.

mod embed;
mod from_row;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Type, parse_macro_input};

/// Derives `lexigram_sql::repository::Entity` for a struct with named fields.
///
/// Struct attribute: `#[entity(table = "name")]` or `"schema.name"` (default: snake_case of
/// the struct name plus `s`). Field attributes: `key` (on one field, or on several for a
/// composite key), `key, generated` (one-column keys only), `version` (`i64`/`i32`),
/// `soft_delete` (`Option<DateTime<Utc>>`), `created_at` / `updated_at` (`DateTime<Utc>` or
/// `Option<DateTime<Utc>>`), `belongs_to = Parent`, `rename = "column"`, `skip`.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `lexigram_sql::repository::FromRow` for a struct with named fields: each field is
/// read from the row's column of the same name (or `#[from_row(rename = "col")]`; an
/// `#[entity(rename = "col")]` is honoured too), so the struct takes the rows of
/// `find_columns`, `aggregate`, joins and raw `fetch_all`. An `Option` field reads a NULL or
/// missing column as `None`; `#[from_row(skip)]` fields get `Default::default()`.
#[proc_macro_derive(FromRow, attributes(from_row, entity))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match from_row::expand(&input) {
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
    created_at: bool,
    updated_at: bool,
    skip: bool,
    rename: Option<String>,
    belongs_to: Option<syn::Path>,
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
            } else if meta.path.is_ident("created_at") {
                flag(&mut out.created_at, "created_at")
            } else if meta.path.is_ident("updated_at") {
                flag(&mut out.updated_at, "updated_at")
            } else if meta.path.is_ident("skip") {
                flag(&mut out.skip, "skip")
            } else if meta.path.is_ident("rename") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`rename` needs a column name"));
                }
                out.rename = Some(lit.value());
                Ok(())
            } else if meta.path.is_ident("belongs_to") {
                if out.belongs_to.is_some() {
                    return Err(meta.error("`belongs_to` given twice"));
                }
                out.belongs_to = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown entity attribute; expected one of: key, generated, version, soft_delete, created_at, updated_at, belongs_to = Type, rename = \"..\", skip",
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
    let stored = out.key
        || out.version
        || out.soft_delete
        || out.created_at
        || out.updated_at
        || out.rename.is_some()
        || out.belongs_to.is_some();
    if out.skip && stored {
        return Err(syn::Error::new(
            span,
            "a `skip` field is not stored and cannot have other entity attributes",
        ));
    }
    let roles = [
        out.key,
        out.version,
        out.soft_delete,
        out.created_at,
        out.updated_at,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if roles > 1 {
        return Err(syn::Error::new(
            span,
            "a field can be only one of `key`, `version`, `soft_delete`, `created_at`, `updated_at`",
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

/// A message for `assert!`, whose message is a format string: braces doubled.
fn braces(msg: &str) -> String {
    msg.replace('{', "{{").replace('}', "}}")
}

/// True for `DateTime<..>` or `Option<DateTime<..>>`.
fn is_timestamp(ty: &Type) -> bool {
    let Some(seg) = last_segment(ty) else {
        return false;
    };
    if seg.ident == "DateTime" {
        return true;
    }
    if seg.ident != "Option" {
        return false;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| {
            matches!(a, syn::GenericArgument::Type(inner) if last_segment(inner).is_some_and(|s| s.ident == "DateTime"))
        }),
        _ => false,
    }
}

/// Sets `slot` to the field's position, or errors if another field took the role.
fn one_field(
    slot: &mut Option<usize>,
    index: usize,
    field: &syn::Field,
    role: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            field.span(),
            format!("only one field can be `#[entity({role})]`"),
        ));
    }
    *slot = Some(index);
    Ok(())
}

/// The named fields of a non-generic struct, or the compile error of derive `derive`
/// (`shape` says what to use instead of another shape).
fn named_fields<'a>(
    input: &'a DeriveInput,
    derive: &str,
    shape: &str,
) -> syn::Result<&'a syn::FieldsNamed> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            format!("#[derive({derive})] does not support generic structs"),
        ));
    }
    let message = format!("#[derive({derive})] only works on structs with named fields{shape}");
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Ok(named),
            other => Err(syn::Error::new(other.span(), message)),
        },
        _ => Err(syn::Error::new(Span::call_site(), message)),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let named = named_fields(input, "Entity", "")?;
    let table = table_name(input)?;

    let mut columns: Vec<Column> = Vec::new();
    let mut skipped: Vec<syn::Ident> = Vec::new();
    let mut keys: Vec<usize> = Vec::new();
    let mut generated: Option<&syn::Field> = None;
    let (mut version, mut soft_delete, mut created_at, mut updated_at) = (None, None, None, None);
    let mut relations: Vec<(usize, syn::Path)> = Vec::new();
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
            keys.push(index);
            if attrs.generated {
                generated = Some(field);
            }
        }
        if attrs.version {
            one_field(&mut version, index, field, "version")?;
            let ok = last_segment(&field.ty)
                .is_some_and(|s| s.arguments.is_none() && (s.ident == "i64" || s.ident == "i32"));
            if !ok {
                return Err(syn::Error::new(
                    field.ty.span(),
                    "unsupported type for `#[entity(version)]`: expected `i64` or `i32`",
                ));
            }
        }
        if attrs.soft_delete {
            one_field(&mut soft_delete, index, field, "soft_delete")?;
            if last_segment(&field.ty).is_none_or(|s| s.ident != "Option") {
                return Err(syn::Error::new(
                    field.ty.span(),
                    "unsupported type for `#[entity(soft_delete)]`: expected `Option<DateTime<Utc>>`",
                ));
            }
        }
        for (set, slot, role) in [
            (attrs.created_at, &mut created_at, "created_at"),
            (attrs.updated_at, &mut updated_at, "updated_at"),
        ] {
            if set {
                one_field(slot, index, field, role)?;
                if !is_timestamp(&field.ty) {
                    return Err(syn::Error::new(
                        field.ty.span(),
                        format!(
                            "unsupported type for `#[entity({role})]`: expected `DateTime<Utc>` or `Option<DateTime<Utc>>`"
                        ),
                    ));
                }
            }
        }
        if let Some(parent) = attrs.belongs_to {
            relations.push((index, parent));
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
    if keys.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "entity `{ident}` has no key: mark its primary-key field `#[entity(key)]` (or `#[entity(key, generated)]` if the database generates it; several `key` fields make a composite key)"
            ),
        ));
    }
    if let (Some(field), true) = (generated, keys.len() > 1) {
        return Err(syn::Error::new(
            field.span(),
            format!(
                "`generated` needs a one-column key, but `{ident}` has a composite key of {} fields: the caller supplies every part of a composite key. Fix: drop `generated`, or keep one `key` field",
                keys.len()
            ),
        ));
    }
    let key_generated = generated.is_some();

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
    let (created_t, updated_t) = (opt(created_at), opt(updated_at));
    let relation_t = relations.iter().map(|(i, parent)| {
        quote_spanned!(parent.span()=> #sql::repository::Relation {
            column: #i,
            target: <#parent as #sql::repository::Entity>::meta,
        })
    });
    // The identifier rule lives in lexigram_sql::ident; checked here at compile time.
    let table_msg = format!(
        "#[derive(Entity)] on `{ident}`: invalid table name `{table}`: use a plain identifier (letters, digits, `_`, at most 63 bytes), optionally schema-qualified with one dot (`schema.table`)"
    );
    let table_msg = braces(&table_msg);
    let column_checks = columns.iter().map(|c| {
        let n = &c.name;
        let msg = format!(
            "#[derive(Entity)] on `{ident}`: invalid column name `{n}`: use a plain identifier (letters, digits, `_`, at most 63 bytes)"
        );
        let msg = braces(&msg);
        quote_spanned!(c.span=> ::core::assert!(#sql::ident::is_column(#n), #msg);)
    });
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
        const _: () = {
            ::core::assert!(#sql::ident::is_table(#table), #table_msg);
            #(#column_checks)*
        };

        #[automatically_derived]
        impl #sql::repository::Entity for #ident {
            fn meta() -> &'static #sql::repository::EntityMeta {
                static META: #sql::repository::EntityMeta = #sql::repository::EntityMeta {
                    name: #name,
                    table: #table,
                    columns: &[#(#metas),*],
                    keys: &[#(#keys),*],
                    key_generated: #key_generated,
                    version: #version_t,
                    soft_delete: #soft_t,
                    created_at: #created_t,
                    updated_at: #updated_t,
                    relations: &[#(#relation_t),*],
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
