//! brush-parser's tokens with byte ranges, to find redirections (the AST has
//! no locations for them).

use std::ops::Range;

/// Converts brush-parser's character indices to byte offsets.
pub(super) struct CharMap {
    byte_of_char: Vec<usize>,
}

impl CharMap {
    pub(super) fn new(text: &str) -> Self {
        let mut byte_of_char: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        byte_of_char.push(text.len());
        CharMap { byte_of_char }
    }
    pub(super) fn byte(&self, char_index: usize) -> usize {
        *self
            .byte_of_char
            .get(char_index)
            .unwrap_or(self.byte_of_char.last().unwrap_or(&0))
    }
}

/// A token of brush-parser's tokenizer, with a byte range.
pub(super) struct Tok {
    pub(super) text: String,
    pub(super) range: Range<usize>,
    pub(super) operator: bool,
}

impl Tok {
    fn is_redirect_operator(&self) -> bool {
        self.operator
            && matches!(
                self.text.as_str(),
                "<" | ">" | ">>" | "<&" | ">&" | "<>" | ">|" | "&>" | "&>>" | "<<" | "<<-" | "<<<"
            )
    }
    /// A file descriptor number written right before a redirection operator
    /// (`2` in `2>&1`, `{fd}` in `{fd}>x`).
    fn is_fd_before(&self, operator: &Tok) -> bool {
        !self.operator
            && self.range.end == operator.range.start
            && operator.is_redirect_operator()
            && (self.text.bytes().all(|b| b.is_ascii_digit())
                || (self.text.starts_with('{') && self.text.ends_with('}') && self.text.len() > 2))
    }
}

/// The tokens of the analysed text in source order, to find the extent of
/// redirections, which brush-parser's AST gives no locations for.
pub(super) struct Tokens(pub(super) Vec<Tok>);

impl Tokens {
    pub(super) fn new(raw: &[brush_parser::Token], map: &CharMap) -> Self {
        let mut toks: Vec<Tok> = raw
            .iter()
            .map(|t| {
                let loc = t.location();
                Tok {
                    text: t.to_str().to_string(),
                    range: map.byte(loc.start.index)..map.byte(loc.end.index),
                    operator: matches!(t, brush_parser::Token::Operator(..)),
                }
            })
            .collect();
        // Here-document bodies come right after their operator in the token
        // stream; sort back into source order.
        toks.sort_by_key(|t| t.range.start);
        Tokens(toks)
    }

    /// The redirection that starts at token `i` (`[fd]op target`, or a process
    /// substitution `<(...)`): its byte range and the index of the token after it.
    fn redirect_at(&self, i: usize) -> Option<(Range<usize>, usize)> {
        let toks = &self.0;
        let first = toks.get(i)?;
        let op_index = if toks.get(i + 1).is_some_and(|op| first.is_fd_before(op)) {
            i + 1
        } else {
            i
        };
        let op = &toks[op_index];
        if !op.is_redirect_operator() {
            return None;
        }
        let target = toks.get(op_index + 1)?;
        if target.operator && target.text == "(" {
            // `<(cmd)` / `>(cmd)`: up to the matching parenthesis.
            if !matches!(op.text.as_str(), "<" | ">") || op.range.end != target.range.start {
                return None;
            }
            let mut depth = 0usize;
            for (j, t) in toks.iter().enumerate().skip(op_index + 1) {
                if t.operator && t.text == "(" {
                    depth += 1;
                } else if t.operator && t.text == ")" {
                    depth -= 1;
                    if depth == 0 {
                        return Some((first.range.start..t.range.end, j + 1));
                    }
                }
            }
            return None;
        }
        if target.operator {
            return None;
        }
        Some((first.range.start..target.range.end, op_index + 2))
    }

    /// Index of the first token starting at or after `pos`.
    fn first_at(&self, pos: usize) -> usize {
        self.0.partition_point(|t| t.range.start < pos)
    }

    /// `pos` moved past the redirections that follow it.
    pub(super) fn redirects_after(&self, mut pos: usize) -> usize {
        let mut i = self.first_at(pos);
        while let Some((range, next)) = self.redirect_at(i) {
            pos = range.end;
            i = next;
        }
        pos
    }

    /// `pos` moved back over the redirections that stand before it, or whose
    /// operator does (`>` in `>log` when `log` starts at `pos`).
    pub(super) fn redirects_before(&self, mut pos: usize) -> usize {
        loop {
            // The last token ending at or before `pos`.
            let Some(last) = self
                .0
                .partition_point(|t| t.range.end <= pos)
                .checked_sub(1)
            else {
                return pos;
            };
            // A redirection covering that token starts at most two tokens earlier
            // (`2` `>` `/dev/null`).
            let found = (last.saturating_sub(2)..=last).find_map(|k| {
                let (range, next) = self.redirect_at(k)?;
                (next > last).then_some(range.start)
            });
            match found {
                Some(start) if start < pos => pos = start,
                _ => return pos,
            }
        }
    }

    /// Byte ranges of the redirections inside `range`.
    pub(super) fn redirects_within(&self, range: &Range<usize>) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = self.first_at(range.start);
        while self.0.get(i).is_some_and(|t| t.range.end <= range.end) {
            match self.redirect_at(i) {
                Some((r, next)) if r.end <= range.end => {
                    out.push(r);
                    i = next;
                }
                _ => i += 1,
            }
        }
        out
    }
}
