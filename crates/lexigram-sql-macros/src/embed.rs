//! `embed_migrations!`: the migration files of a directory (or listed files), embedded with
//! `include_str!` so that editing one rebuilds the crate.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

/// The macro's input: one directory, or files, as string literals.
pub(crate) struct Paths(Punctuated<LitStr, Token![,]>);

impl Parse for Paths {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let paths = Punctuated::parse_terminated(input)?;
        if paths.is_empty() {
            return Err(input.error(
                "embed_migrations! needs a directory (\"migrations\") or the migration files",
            ));
        }
        Ok(Paths(paths))
    }
}

/// `MigrationSource::from_static(&[(name, include_str!(path)), …])` over the `.sql` files.
pub(crate) fn expand(paths: &Paths) -> syn::Result<TokenStream> {
    let base = base_dir();
    let mut files: Vec<PathBuf> = Vec::new();
    for literal in &paths.0 {
        let path = base.join(literal.value());
        if path.is_dir() {
            if paths.0.len() > 1 {
                return Err(syn::Error::new(
                    literal.span(),
                    "embed_migrations! takes one directory, or a list of files",
                ));
            }
            files.extend(sql_files(&path, literal)?);
        } else if path.is_file() {
            files.push(path);
        } else {
            return Err(syn::Error::new(
                literal.span(),
                format!(
                    "`{}` is neither a directory nor a file (resolved to {}). Fix: give the path \
                     relative to the file that invokes embed_migrations!",
                    literal.value(),
                    path.display()
                ),
            ));
        }
    }
    let pairs = files.iter().map(|path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Absolute: `include_str!` resolves a relative path against the invoking file, while
        // `local_file` gives the file relative to the compiler's working directory.
        let full = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string();
        quote! { (#name, ::core::include_str!(#full)) }
    });
    Ok(quote! {
        ::lexigram_sql::migrate::MigrationSource::from_static(&[#(#pairs),*])
    })
}

/// The directory of the invoking source file (paths are relative to it, as with
/// `include_str!`), else the crate's manifest directory.
fn base_dir() -> PathBuf {
    let file = proc_macro::Span::call_site().local_file();
    match file.as_deref().and_then(Path::parent) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()),
    }
}

/// The `.sql` files of `dir`, sorted by name; other files are left out.
fn sql_files(dir: &Path, literal: &LitStr) -> syn::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        syn::Error::new(
            literal.span(),
            format!("cannot read {}: {e}", dir.display()),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    Ok(files)
}
