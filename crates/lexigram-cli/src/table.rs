//! Plain, aligned text tables for people, drawn by `comfy-table` without borders.

use comfy_table::{Table, presets};

/// Renders rows under headers with columns padded to their widest cell (two spaces between
/// columns, no trailing spaces): `render(&["A", "BB"], &[vec!["xyz", "1"]])` is
/// `"A    BB\nxyz  1\n"` (see the test below).
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

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn columns_are_padded_to_the_widest_cell_without_trailing_spaces() {
        let text = render(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(text, "A    BB\nxyz  1\n");
    }
}
