//! Fuzzes the Dockerfile parser: any input must parse or fail cleanly (never
//! panic), an accepted input must print back byte for byte, every span must be
//! inside the source on char boundaries, rendering an error must not panic, and
//! the chunked parse must equal the item-by-item parse.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Raw bytes go through `decode` (BOM sniffing, UTF-16/32) like a file would.
    let Ok((text, _)) = dopt::syntax::decode(data) else {
        return;
    };
    let parsed = dopt::syntax::parse(&text);
    // The chunk rules are a copy of the single-item rules shaped for speed:
    // both must build the same tree (or the same error).
    let reference = dopt::syntax::parse_item_by_item(&text);
    assert_eq!(format!("{parsed:?}"), format!("{reference:?}"));
    match parsed {
        Ok(df) => {
            assert_eq!(df.print(), text);
            let _ = dopt::syntax::dump::buildkit_dump(&df);
            for inst in &df.instructions {
                for span in [inst.span, inst.keyword_span, inst.args_span] {
                    assert!(span.end <= text.len());
                    assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
                }
                for i in 0..=inst.logical.text.len() {
                    if inst.logical.text.is_char_boundary(i) {
                        let at = inst.logical.map(i);
                        assert!(at <= text.len());
                    }
                }
            }
            let _ = serde_json::to_string(&df);
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= text.len());
            let _ = e.render("Dockerfile", &text, false);
        }
    }
});
