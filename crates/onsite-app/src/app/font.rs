//! Finding the CJK font the record PDF is set in: asked of fontconfig (`fc-match`), with Debian's
//! `fonts-noto-cjk` paths as the fallback.

use std::path::{Path, PathBuf};
use std::process::Command;

use onsite_record::{NOTO_CJK_BOLD, NOTO_CJK_REGULAR, NOTO_CJK_SC_INDEX, RecordFont};

use crate::error::AppError;

/// The fontconfig patterns for the regular and bold face: Noto Sans CJK SC, or whatever
/// fontconfig picks for Simplified Chinese.
const PATTERNS: [&str; 2] = [
    "Noto Sans CJK SC:lang=zh-cn",
    "Noto Sans CJK SC:lang=zh-cn:weight=bold",
];

/// A font file and the face index inside it.
pub(crate) type FontFile = (PathBuf, usize);

/// Ask fontconfig for the best match of `pattern`; `None` when `fc-match` is missing or fails.
pub(crate) fn fc_match(pattern: &str) -> Option<FontFile> {
    let out = Command::new("fc-match")
        .args(["-f", "%{file}\n%{index}", pattern])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let file = lines.next().filter(|f| !f.is_empty())?;
    let index = lines
        .next()
        .and_then(|i| i.trim().parse().ok())
        .unwrap_or(0);
    Some((PathBuf::from(file), index))
}

/// Load the first candidate that is a usable font with Chinese glyphs.
fn first_usable(candidates: &[FontFile]) -> Option<(RecordFont, Vec<u8>, usize)> {
    candidates.iter().find_map(|(path, index)| {
        let bytes = std::fs::read(path).ok()?;
        let font = RecordFont::from_bytes(&bytes, *index).ok()?;
        Some((font, bytes, *index))
    })
}

/// The record font: fontconfig's choice for Simplified Chinese first (`lookup` runs the query;
/// the app passes [`fc_match`]), then `fallback` (regular, bold). A bold face is added when one
/// is found. `record.no_cjk_font` when no candidate has Chinese glyphs.
pub(crate) fn find_record_font(
    lookup: impl Fn(&str) -> Option<FontFile>,
    fallback: [&Path; 2],
) -> Result<RecordFont, AppError> {
    let candidates = |i: usize| -> Vec<FontFile> {
        let mut c: Vec<FontFile> = lookup(PATTERNS[i]).into_iter().collect();
        c.push((fallback[i].to_path_buf(), NOTO_CJK_SC_INDEX));
        c
    };
    let Some((font, _, _)) = first_usable(&candidates(0)) else {
        return Err(AppError::NoCjkFont(fallback[0].display().to_string()));
    };
    Ok(match first_usable(&candidates(1)) {
        Some((_, bytes, index)) => font.clone().with_bold(&bytes, index).unwrap_or(font),
        None => font,
    })
}

/// The record font on this machine (see [`find_record_font`]).
pub(crate) fn record_font() -> Result<RecordFont, AppError> {
    find_record_font(
        fc_match,
        [Path::new(NOTO_CJK_REGULAR), Path::new(NOTO_CJK_BOLD)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nowhere() -> [&'static Path; 2] {
        [
            Path::new("/nonexistent/onsite/regular.ttc"),
            Path::new("/nonexistent/onsite/bold.ttc"),
        ]
    }

    #[test]
    fn no_cjk_font_anywhere_is_a_clear_error() {
        let e = find_record_font(|_| None, nowhere()).unwrap_err();
        assert_eq!(
            e.code(),
            "record.no_cjk_font",
            "neither fontconfig nor the fallback has a font: a stable code, not a panic"
        );
        assert!(
            e.to_string().contains("fonts-noto-cjk"),
            "the message says what to install"
        );
    }

    #[test]
    fn a_font_without_chinese_glyphs_is_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = dir.path().join("latin.ttf");
        std::fs::write(&junk, b"not a font at all").expect("write");
        let e = find_record_font(|_| Some((junk.clone(), 0)), nowhere()).unwrap_err();
        assert_eq!(
            e.code(),
            "record.no_cjk_font",
            "fontconfig's fallback font without Chinese glyphs must not be used"
        );
    }

    #[test]
    fn the_font_fontconfig_names_is_used_before_the_fallback() {
        // The Debian font stands in for "whatever fontconfig found"; the fallback is absent, so
        // success proves the lookup's answer was used.
        let debian = PathBuf::from(NOTO_CJK_REGULAR);
        assert!(
            debian.exists(),
            "the test machine needs fonts-noto-cjk (the record tests render with it too)"
        );
        let font = find_record_font(|_| Some((debian.clone(), NOTO_CJK_SC_INDEX)), nowhere())
            .expect("the font fontconfig named is loaded");
        assert!(
            font.missing_glyphs("一票到底服务记录单").is_empty(),
            "the found font sets the record's Chinese"
        );
    }
}
