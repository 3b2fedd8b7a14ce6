//! Signature image normalisation: what the signature pad produced becomes a small, grey,
//! fixed-height PNG whose SHA-256 goes into the signed record.
//!
//! Steps, all deterministic (same input bytes → same output bytes):
//! 1. refuse anything over [`MAX_INPUT_BYTES`], without the PNG magic, wider or taller than
//!    [`MAX_INPUT_SIDE`], or that does not decode;
//! 2. flatten transparency onto white and convert to 8-bit grey (Rec. 601 luma);
//! 3. find the ink: pixels darker than [`INK_THRESHOLD`]; fewer than [`MIN_INK_PIXELS`] means blank;
//! 4. crop to the ink's bounding box and scale it to fit [`OUTPUT_HEIGHT`] − 2·[`MARGIN`] pixels
//!    high (keeping its aspect ratio, at most [`MAX_OUTPUT_WIDTH`] − 2·[`MARGIN`] wide), centred
//!    on a white canvas [`OUTPUT_HEIGHT`] high with a [`MARGIN`] on every side;
//! 5. snap near-white to white (pad noise) and encode as 8-bit grey PNG with the best compression.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType as PngFilter, PngDecoder, PngEncoder};
use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageDecoder, ImageEncoder, Limits, Luma};
use onsite_domain::Code;
use sha2::{Digest, Sha256};

/// Largest PNG accepted from a pad, in bytes.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;
/// Largest width or height accepted from a pad, in pixels.
pub const MAX_INPUT_SIDE: u32 = 4096;
/// Height of every normalised signature, in pixels.
pub const OUTPUT_HEIGHT: u32 = 160;
/// Widest normalised signature, in pixels.
pub const MAX_OUTPUT_WIDTH: u32 = 800;
/// White border around the ink in the normalised image, in pixels.
pub const MARGIN: u32 = 8;
/// A grey value (0 black … 255 white) below this counts as ink.
pub const INK_THRESHOLD: u8 = 192;
/// Fewer ink pixels than this is a blank pad (a stray tap is not a signature).
pub const MIN_INK_PIXELS: u64 = 16;
/// Size the normalised PNG is kept under.
pub const TARGET_BYTES: usize = 30 * 1024;
/// Output greys at or above this become pure white, so pad noise does not cost bytes.
const WHITE_SNAP: u8 = 236;
/// PNG file signature.
const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Why a signature image was refused. Nothing is stored when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not a PNG image; send the signature pad's PNG export")]
    NotPng,
    #[error("the signature PNG could not be decoded ({0}); capture the signature again")]
    Corrupt(String),
    #[error("the signature is {bytes} bytes, more than the {max} allowed; export it smaller")]
    TooManyBytes { bytes: usize, max: usize },
    #[error(
        "the signature image is {width}×{height} px, more than {max} px on a side; export it smaller"
    )]
    TooManyPixels { width: u32, height: u32, max: u32 },
    #[error("the signature pad is blank; ask the customer to sign")]
    Empty,
}

impl SignatureError {
    /// Stable code for the UI and the wire.
    pub fn code(&self) -> Code {
        match self {
            SignatureError::NotPng => Code::SignatureNotPng,
            SignatureError::Corrupt(_) => Code::SignatureCorrupt,
            SignatureError::TooManyBytes { .. } => Code::SignatureTooLarge,
            SignatureError::TooManyPixels { .. } => Code::SignatureTooManyPixels,
            SignatureError::Empty => Code::SignatureEmpty,
        }
    }
}

/// A normalised signature image, ready to store as an attachment and to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedSignature {
    /// 8-bit greyscale PNG, [`OUTPUT_HEIGHT`] px high.
    pub png: Vec<u8>,
    /// Lowercase hex SHA-256 of `png`; what `VisitEdit::Sign { image_sha256 }` takes.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A handwritten-looking signature for demo data (the demo company's past visits): a cursive
/// stroke drawn on a white 480×140 pad, then normalised like every customer's signature.
/// Deterministic: the same bytes every time.
pub fn demo_signature() -> NormalisedSignature {
    let mut pad = GrayImage::from_pixel(480, 140, Luma([255]));
    let mut t = 0.0_f64;
    while t < 1.0 {
        // Three loops travelling right, with a slant and a fading swing: a plausible hand.
        let x = 40.0 + 380.0 * t + 18.0 * (t * 6.0 * std::f64::consts::TAU).cos();
        let y = 70.0 - 38.0 * (t * 6.0 * std::f64::consts::TAU).sin() * (1.0 - 0.5 * t);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (px, py) = (x as u32 + dx, y as u32 + dy);
            if px < pad.width() && py < pad.height() {
                pad.put_pixel(px, py, Luma([20]));
            }
        }
        t += 0.0005;
    }
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(
            pad.as_raw(),
            pad.width(),
            pad.height(),
            image::ExtendedColorType::L8,
        )
        .expect("a grey image encodes as PNG");
    normalise(&png).expect("the demo stroke is a signature")
}

/// Validate and normalise the PNG a signature pad produced.
pub fn normalise(png: &[u8]) -> Result<NormalisedSignature, SignatureError> {
    if png.len() > MAX_INPUT_BYTES {
        return Err(SignatureError::TooManyBytes {
            bytes: png.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if !png.starts_with(&PNG_MAGIC) {
        return Err(SignatureError::NotPng);
    }
    let grey = decode_flattened(png)?;
    let Some((x0, y0, x1, y1)) = ink_box(&grey) else {
        return Err(SignatureError::Empty);
    };
    let ink = imageops::crop_imm(&grey, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image();
    let mut out = fit_on_canvas(&ink);
    let mut bytes = encode(&out)?;
    if bytes.len() > TARGET_BYTES {
        // 16 evenly spaced greys: keeps anti-aliasing, compresses far better.
        for p in out.pixels_mut() {
            p.0[0] = (p.0[0] / 17) * 17;
        }
        bytes = encode(&out)?;
    }
    if bytes.len() > TARGET_BYTES {
        for p in out.pixels_mut() {
            p.0[0] = if p.0[0] < INK_THRESHOLD { 0 } else { 255 };
        }
        bytes = encode(&out)?;
    }
    Ok(NormalisedSignature {
        sha256: sha256_hex(&bytes),
        width: out.width(),
        height: out.height(),
        png: bytes,
    })
}

fn decode_flattened(png: &[u8]) -> Result<GrayImage, SignatureError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_INPUT_SIDE);
    limits.max_image_height = Some(MAX_INPUT_SIDE);
    // A 4096² RGBA16 image is 128 MiB; allow that plus the decoder's working memory.
    limits.max_alloc = Some(256 * 1024 * 1024);
    let decoder =
        PngDecoder::new(Cursor::new(png)).map_err(|e| SignatureError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE {
        return Err(SignatureError::TooManyPixels {
            width,
            height,
            max: MAX_INPUT_SIDE,
        });
    }
    let mut decoder = decoder;
    decoder
        .set_limits(limits)
        .map_err(|e| SignatureError::Corrupt(e.to_string()))?;
    let img =
        DynamicImage::from_decoder(decoder).map_err(|e| SignatureError::Corrupt(e.to_string()))?;
    let rgba = img.to_rgba8();
    let mut grey = GrayImage::new(rgba.width(), rgba.height());
    for (src, dst) in rgba.pixels().zip(grey.pixels_mut()) {
        let [r, g, b, a] = src.0;
        // Rec. 601 luma in integer arithmetic, then alpha-composite onto white.
        let luma = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000;
        let a = u32::from(a);
        let v = (luma * a + 255 * (255 - a) + 127) / 255;
        *dst = Luma([v as u8]);
    }
    Ok(grey)
}

/// Inclusive bounding box of the ink, or `None` for a blank pad.
fn ink_box(grey: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let mut count = 0u64;
    for (x, y, p) in grey.enumerate_pixels() {
        if p.0[0] < INK_THRESHOLD {
            count += 1;
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    (count >= MIN_INK_PIXELS).then_some((x0, y0, x1, y1))
}

fn fit_on_canvas(ink: &GrayImage) -> GrayImage {
    let max_h = f64::from(OUTPUT_HEIGHT - 2 * MARGIN);
    let max_w = f64::from(MAX_OUTPUT_WIDTH - 2 * MARGIN);
    let (w, h) = (f64::from(ink.width()), f64::from(ink.height()));
    let scale = (max_h / h).min(max_w / w);
    let new_w = ((w * scale).round() as u32).clamp(1, MAX_OUTPUT_WIDTH - 2 * MARGIN);
    let new_h = ((h * scale).round() as u32).clamp(1, OUTPUT_HEIGHT - 2 * MARGIN);
    let scaled = imageops::resize(ink, new_w, new_h, FilterType::CatmullRom);
    let mut canvas = GrayImage::from_pixel(new_w + 2 * MARGIN, OUTPUT_HEIGHT, Luma([255]));
    let top = (OUTPUT_HEIGHT - new_h) / 2;
    imageops::replace(&mut canvas, &scaled, i64::from(MARGIN), i64::from(top));
    for p in canvas.pixels_mut() {
        if p.0[0] >= WHITE_SNAP {
            p.0[0] = 255;
        }
    }
    canvas
}

fn encode(img: &GrayImage) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Best, PngFilter::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| SignatureError::Corrupt(format!("re-encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_signature_is_a_real_normalised_signature_and_always_the_same() {
        let a = demo_signature();
        assert_eq!(
            a.png,
            demo_signature().png,
            "deterministic: the seed's hashes never move"
        );
        assert_eq!(a.height, OUTPUT_HEIGHT, "normalised like a customer's");
        assert!(
            a.width > 2 * OUTPUT_HEIGHT,
            "a wide, written stroke: {}",
            a.width
        );
        let again = normalise(&a.png).expect("it passes the pad's own checks");
        assert_eq!(again.height, OUTPUT_HEIGHT);
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(SignatureError::NotPng.code(), "signature.not_png");
        assert_eq!(SignatureError::Empty.code(), "signature.empty");
        assert_eq!(
            SignatureError::TooManyBytes { bytes: 1, max: 0 }.code(),
            "signature.too_large"
        );
    }
}
