//! Terminal styles. Strings carry ANSI codes; `anstream` strips them when stdout
//! is piped, when `NO_COLOR` is set, or with `--color never`.

use anstyle::{AnsiColor, Style};

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub const CODE: Style = AnsiColor::Cyan.on_default().bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();
pub const ADDED: Style = AnsiColor::Green.on_default();
pub const REMOVED: Style = AnsiColor::Red.on_default();
pub const HUNK: Style = AnsiColor::Cyan.on_default();
pub const SAFE: Style = AnsiColor::Green.on_default();
pub const UNSAFE: Style = AnsiColor::Magenta.on_default();

/// `text` wrapped in `style`'s escape codes.
pub fn paint(style: Style, text: &str) -> String {
    format!("{}{}{}", style.render(), text, style.render_reset())
}
