//! Small Markdown helpers for job summaries.

/// A Markdown table; cells are escaped so a `|` or newline in data cannot break it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let width = self.header.len();
        out.push_str(&render_row(&self.header, width));
        out.push('|');
        for _ in 0..width {
            out.push_str(" --- |");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&render_row(row, width));
        }
        out
    }
}

fn render_row(cells: &[String], width: usize) -> String {
    let mut out = String::from("|");
    for i in 0..width {
        let cell = cells.get(i).map(String::as_str).unwrap_or("");
        out.push(' ');
        out.push_str(&escape_cell(cell));
        out.push_str(" |");
    }
    out.push('\n');
    out
}

pub fn escape_cell(cell: &str) -> String {
    cell.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// A fenced code block whose fence is longer than any backtick run inside `body`.
pub fn code_block(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = body.trim_end_matches('\n');
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_escapes_pipes_and_newlines() {
        let mut t = Table::new(["service", "status"]);
        t.row(["a|b", "line1\nline2"]);
        assert_eq!(
            t.render(),
            "| service | status |\n| --- | --- |\n| a\\|b | line1<br>line2 |\n"
        );
    }

    #[test]
    fn code_block_fence_outgrows_backticks_in_body() {
        assert_eq!(code_block("", "x ``` y"), "````\nx ``` y\n````\n");
        assert_eq!(code_block("text", "plain\n"), "```text\nplain\n```\n");
    }
}
