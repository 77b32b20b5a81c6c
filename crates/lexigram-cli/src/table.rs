//! Plain, aligned text tables for people, drawn by `comfy-table` without borders.

use comfy_table::{Table, presets};

/// Renders rows under headers with columns padded to their widest cell (two spaces between
/// columns, no trailing spaces).
///
/// ```
/// let text = lexigram_cli::table::render(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
/// assert_eq!(text, "A    BB\nxyz  1\n");
/// ```
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_header(headers.to_vec())
        .add_rows(rows.iter().cloned());
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
