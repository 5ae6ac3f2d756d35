//! Splicing edits into the original text, and the fix-until-stable loop.
// Implemented by the lead; see `apply_fixes` and `fix_until_stable`.
