//! Signature pad input: refusals with stable codes, and the normalised image's shape and size.

mod common;

use image::{GenericImageView, Rgba, RgbaImage};
use onsite_record::signature::{
    MAX_INPUT_BYTES, MAX_INPUT_SIDE, MAX_OUTPUT_WIDTH, OUTPUT_HEIGHT, TARGET_BYTES,
};
use onsite_record::{SignatureError, normalise_signature};

fn code(bytes: &[u8]) -> onsite_domain::Code {
    normalise_signature(bytes)
        .expect_err("input must be refused")
        .code()
}

#[test]
fn non_png_inputs_are_refused_as_not_png() {
    assert_eq!(code(b""), "signature.not_png", "empty upload");
    assert_eq!(code(b"hello, not an image"), "signature.not_png");
    let jpeg_magic = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    assert_eq!(
        code(&jpeg_magic),
        "signature.not_png",
        "a JPEG is not a PNG"
    );
}

#[test]
fn png_magic_with_garbage_is_refused_as_corrupt() {
    let mut bytes = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    bytes.extend_from_slice(&[7u8; 200]);
    assert_eq!(code(&bytes), "signature.corrupt");
    let mut truncated = common::pad_png(300, 100);
    truncated.truncate(truncated.len() / 2);
    assert_eq!(
        code(&truncated),
        "signature.corrupt",
        "a truncated upload must not decode"
    );
}

#[test]
fn oversized_inputs_are_refused_before_decoding() {
    let mut huge = common::pad_png(300, 100);
    huge.resize(MAX_INPUT_BYTES + 1, 0);
    assert_eq!(code(&huge), "signature.too_large");
    let wide = common::encode_rgba(&RgbaImage::new(MAX_INPUT_SIDE + 1, 2));
    let err = normalise_signature(&wide).unwrap_err();
    assert_eq!(err.code(), "signature.too_many_pixels");
    assert_eq!(
        err,
        SignatureError::TooManyPixels {
            width: MAX_INPUT_SIDE + 1,
            height: 2,
            max: MAX_INPUT_SIDE
        }
    );
}

#[test]
fn blank_pads_are_refused_as_empty() {
    let transparent = common::encode_rgba(&RgbaImage::new(400, 150));
    assert_eq!(code(&transparent), "signature.empty", "fully transparent");
    let white = common::encode_rgba(&RgbaImage::from_pixel(400, 150, Rgba([255, 255, 255, 255])));
    assert_eq!(code(&white), "signature.empty", "opaque white");
    let mut specks = RgbaImage::from_pixel(400, 150, Rgba([255, 255, 255, 255]));
    for i in 0..5 {
        specks.put_pixel(10 + i * 50, 20 + i * 10, Rgba([0, 0, 0, 255]));
    }
    assert_eq!(
        code(&common::encode_rgba(&specks)),
        "signature.empty",
        "a few stray taps are not a signature"
    );
    let faint = common::encode_rgba(&RgbaImage::from_pixel(400, 150, Rgba([0, 0, 0, 20])));
    assert_eq!(
        code(&faint),
        "signature.empty",
        "a faint tint over the whole pad is not ink"
    );
}

#[test]
fn normalised_signature_is_grey_fixed_height_small_and_deterministic() {
    for (w, h) in [(900, 300), (2400, 1200), (320, 90), (4000, 400)] {
        let input = common::pad_png(w, h);
        let a = normalise_signature(&input).expect("valid signature");
        let b = normalise_signature(&input).expect("valid signature");
        assert_eq!(a, b, "same input must give the same bytes and hash");
        assert_eq!(a.sha256, onsite_record::signature::sha256_hex(&a.png));
        println!(
            "pad {w}x{h} ({} B) -> {}x{} grey PNG, {} B",
            input.len(),
            a.width,
            a.height,
            a.png.len()
        );
        assert!(
            a.png.len() <= TARGET_BYTES,
            "{w}x{h}: {} bytes exceeds the 30 KB target",
            a.png.len()
        );
        let img = image::load_from_memory(&a.png).expect("output decodes");
        assert_eq!(
            img.color(),
            image::ColorType::L8,
            "output must be 8-bit grey"
        );
        assert_eq!(img.height(), OUTPUT_HEIGHT, "fixed height");
        assert_eq!((img.width(), img.height()), (a.width, a.height));
        assert!(img.width() <= MAX_OUTPUT_WIDTH);
        // Cropped to the ink: the border beyond the margin is white, and there is ink inside.
        let grey = img.to_luma8();
        assert_eq!(grey.get_pixel(0, 0).0[0], 255, "corner is white");
        assert!(
            grey.pixels().any(|p| p.0[0] < 100),
            "{w}x{h}: the stroke survives scaling"
        );
    }
}

#[test]
fn ink_is_cropped_so_position_on_the_pad_does_not_matter() {
    let stroke = image::load_from_memory(&common::pad_png(600, 200))
        .unwrap()
        .to_rgba8();
    let mut left = RgbaImage::new(1600, 600);
    let mut right = RgbaImage::new(1600, 600);
    image::imageops::overlay(&mut left, &stroke, 0, 0);
    image::imageops::overlay(&mut right, &stroke, 1000, 400);
    let a = normalise_signature(&common::encode_rgba(&left)).unwrap();
    let b = normalise_signature(&common::encode_rgba(&right)).unwrap();
    assert_eq!(
        a.sha256, b.sha256,
        "only the ink counts, not where it was drawn"
    );
}

#[test]
fn transparency_is_flattened_onto_white() {
    let transparent = image::load_from_memory(&common::pad_png(600, 200))
        .unwrap()
        .to_rgba8();
    let mut opaque = RgbaImage::from_pixel(600, 200, Rgba([255, 255, 255, 255]));
    image::imageops::overlay(&mut opaque, &transparent, 0, 0);
    let a = normalise_signature(&common::encode_rgba(&transparent)).unwrap();
    let b = normalise_signature(&common::encode_rgba(&opaque)).unwrap();
    assert_eq!(
        a.png, b.png,
        "a transparent pad export and a white one with the same ink are the same signature"
    );
}

#[test]
fn a_dense_scribble_still_fits_the_size_target() {
    let mut img = RgbaImage::from_pixel(1600, 400, Rgba([255, 255, 255, 255]));
    let mut state = 0x2545_F491u32;
    for _ in 0..40_000 {
        // xorshift: a deterministic, dense, noisy scribble.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let (x, y) = (state % 1600, (state / 1600) % 400);
        let v = (state >> 24) as u8 / 2;
        img.put_pixel(x, y, Rgba([v, v, v, 255]));
    }
    let out = normalise_signature(&common::encode_rgba(&img)).expect("scribble has ink");
    println!("dense scribble -> {} B", out.png.len());
    assert!(
        out.png.len() <= TARGET_BYTES,
        "{} bytes: the fallback encodings must keep it under the target",
        out.png.len()
    );
    let decoded = image::load_from_memory(&out.png).unwrap();
    assert_eq!(decoded.dimensions().1, OUTPUT_HEIGHT);
}
