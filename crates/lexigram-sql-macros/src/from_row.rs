//! `#[derive(FromRow)]`: a projection struct read from a row by column name.

use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr};

use super::last_segment;

/// What the field attributes say: the column name, or that the field is not read.
struct FieldRead {
    column: Option<String>,
    skip: bool,
}

/// Reads `#[from_row(rename = "..", skip)]`, and `rename`/`skip` of `#[entity(..)]` (other
/// entity attributes belong to `#[derive(Entity)]` and are ignored here).
fn field_read(field: &syn::Field) -> syn::Result<FieldRead> {
    let mut out = FieldRead {
        column: None,
        skip: false,
    };
    for attr in &field.attrs {
        let own = attr.path().is_ident("from_row");
        if !own && !attr.path().is_ident("entity") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "`rename` needs a column name"));
                }
                out.column = Some(lit.value());
            } else if meta.path.is_ident("skip") {
                out.skip = true;
            } else if own {
                return Err(
                    meta.error("unknown from_row attribute; expected `rename = \"..\"` or `skip`")
                );
            } else if meta.input.peek(syn::Token![=]) {
                // `#[entity(belongs_to = T)]` and the like: not for FromRow.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    if out.skip && out.column.is_some() {
        return Err(syn::Error::new(
            field.span(),
            "a `skip` field is not read and cannot be renamed",
        ));
    }
    Ok(out)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let named = super::named_fields(
        input,
        "FromRow",
        " (columns are read by name); for positions use a tuple",
    )?;
    let sql = quote!(::lexigram_sql);
    let mut reads = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for field in &named.named {
        let read = field_read(field)?;
        let Some(f) = &field.ident else {
            continue;
        };
        if read.skip {
            reads.push(quote!(#f: ::core::default::Default::default()));
            continue;
        }
        let column = read
            .column
            .unwrap_or_else(|| f.to_string().trim_start_matches("r#").to_string());
        if names.contains(&column) {
            return Err(syn::Error::new(
                field.span(),
                format!("column `{column}` is read by two fields"),
            ));
        }
        let optional = last_segment(&field.ty).is_some_and(|s| s.ident == "Option");
        let take = if optional {
            quote!(take_named_or_null)
        } else {
            quote!(take_named)
        };
        let ty = &field.ty;
        reads.push(quote_spanned!(field.ty.span()=>
            #f: #sql::repository::__private::#take::<#ty>(&mut row, #column)?
        ));
        names.push(column);
    }
    Ok(quote! {
        #[automatically_derived]
        impl #sql::repository::FromRow for #ident {
            fn from_row(mut row: #sql::Row) -> #sql::Result<Self> {
                let _ = &mut row;
                ::core::result::Result::Ok(Self {
                    #(#reads,)*
                })
            }
        }
    })
}
