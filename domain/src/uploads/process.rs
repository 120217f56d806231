//! The pure, CPU-bound half of an upload: recognise the image from its bytes, refuse what
//! is too big before decoding it, decode under memory limits, apply EXIF orientation, and
//! re-encode (which drops every metadata segment, GPS included) plus a thumbnail.
//!
//! It must never trust the client's declared type or file name, never decode an image
//! whose header already exceeds the limits, and never return the submitted bytes as they
//! came: only freshly encoded pixels leave this module. It does no I/O; callers run it in
//! `spawn_blocking`.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::error::ImageError;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use super::{UploadError, UploadLimits};

/// JPEG quality of stored photos: visually clean, about a tenth of a camera original.
const PHOTO_QUALITY: u8 = 85;

/// JPEG quality of thumbnails.
const THUMBNAIL_QUALITY: u8 = 80;

/// A processed upload, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Processed {
    /// Media type of [`Processed::bytes`].
    pub content_type: &'static str,
    /// File extension matching `content_type`, without the dot.
    pub extension: &'static str,
    /// The re-encoded original.
    pub bytes: Vec<u8>,
    /// Width after orientation.
    pub width: u32,
    /// Height after orientation.
    pub height: u32,
    /// JPEG thumbnail whose longest edge is at most `thumbnail_edge`.
    pub thumbnail: Vec<u8>,
}

/// The format the bytes really are, from their magic numbers; `None` for anything but
/// JPEG, PNG, WebP and GIF.
pub(crate) fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some(ImageFormat::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageFormat::Png),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageFormat::Gif),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Validates, decodes and re-encodes `bytes` under `limits`.
pub(crate) fn process(bytes: &[u8], limits: &UploadLimits) -> Result<Processed, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(UploadError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or(UploadError::UnsupportedType)?;

    // First pass: parse the header only, with the memory cap but no size limits, so an
    // oversized image is reported with its dimensions rather than as a generic limit error.
    let mut header_limits = Limits::default();
    header_limits.max_alloc = Some(limits.decode_memory_bytes);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(header_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_error(e, None, limits))?;

    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(UploadError::Corrupt("image has no pixels".into()));
    }
    let too_many = UploadError::TooManyPixels {
        width,
        height,
        max_pixels: limits.max_pixels,
    };
    if width > limits.max_dimension
        || height > limits.max_dimension
        || u64::from(width) * u64::from(height) > limits.max_pixels
        || decoder.total_bytes() > limits.decode_memory_bytes
    {
        return Err(too_many);
    }

    // Second line of defence for decoders that allocate more than the header suggests.
    let mut strict = Limits::default();
    strict.max_image_width = Some(limits.max_dimension);
    strict.max_image_height = Some(limits.max_dimension);
    strict.max_alloc = Some(limits.decode_memory_bytes);
    decoder
        .set_limits(strict)
        .map_err(|e| image_error(e, Some((width, height)), limits))?;

    // A malformed EXIF block is not worth refusing a photo for: keep it upright as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| image_error(e, Some((width, height)), limits))?;
    image.apply_orientation(orientation);

    let (content_type, extension, encoded) = if image.color().has_alpha() {
        let rgba = DynamicImage::ImageRgba8(image.to_rgba8());
        let mut out = Vec::new();
        rgba.write_with_encoder(PngEncoder::new(&mut out))
            .map_err(encode_error)?;
        ("image/png", "png", out)
    } else {
        (
            "image/jpeg",
            "jpg",
            encode_jpeg(&image.to_rgb8(), PHOTO_QUALITY)?,
        )
    };

    let edge = limits.thumbnail_edge.max(1);
    let small = if image.width().max(image.height()) > edge {
        image.thumbnail(edge, edge)
    } else {
        image.clone()
    };
    let thumbnail = encode_jpeg(&flatten_on_white(&small), THUMBNAIL_QUALITY)?;

    Ok(Processed {
        content_type,
        extension,
        bytes: encoded,
        width: image.width(),
        height: image.height(),
        thumbnail,
    })
}

fn encode_jpeg(rgb: &RgbImage, quality: u8) -> Result<Vec<u8>, UploadError> {
    let mut out = Vec::new();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(encode_error)?;
    Ok(out)
}

/// RGB with transparent areas composited on white (JPEG has no alpha, and dropping it
/// would turn transparent areas black).
fn flatten_on_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| {
            let c = u16::from(c);
            let a = u16::from(a);
            // c·a + 255·(255−a), over 255, rounded; always ≤ 255.
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

fn encode_error(err: ImageError) -> UploadError {
    UploadError::Corrupt(format!("could not re-encode the image: {err}"))
}

fn image_error(err: ImageError, dims: Option<(u32, u32)>, limits: &UploadLimits) -> UploadError {
    match err {
        ImageError::Limits(_) => {
            let (width, height) = dims.unwrap_or((0, 0));
            UploadError::TooManyPixels {
                width,
                height,
                max_pixels: limits.max_pixels,
            }
        }
        ImageError::Unsupported(_) => UploadError::UnsupportedType,
        other => UploadError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn gradient(width: u32, height: u32) -> RgbImage {
        ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        })
    }

    fn png_bytes(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        image.write_with_encoder(PngEncoder::new(&mut out))?;
        Ok(out)
    }

    fn jpeg_bytes(width: u32, height: u32) -> Result<Vec<u8>, UploadError> {
        encode_jpeg(&gradient(width, height), 90)
    }

    fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
        image::load_from_memory(bytes)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// A PNG chunk with its length and CRC.
    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(kind);
        hasher.update(data);
        chunk.extend_from_slice(&hasher.finalize().to_be_bytes());
        chunk
    }

    /// A well-formed PNG whose IHDR claims `width`×`height` RGB pixels, with one tiny IDAT.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &ihdr));
        // A zlib stream of a few zero bytes: far too little data, but valid framing.
        png.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
        ));
        png.extend(png_chunk(b"IEND", &[]));
        png
    }

    /// An APP1 Exif segment saying "rotate 90° clockwise", plus a fake GPS marker.
    fn exif_app1_rotate_90() -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08"); // big-endian, IFD at 8
        tiff.extend_from_slice(&[0x00, 0x01]); // one entry
        tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]); // Orientation, SHORT, 1
        tiff.extend_from_slice(&[0x00, 0x06, 0x00, 0x00]); // value 6
        tiff.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // no next IFD
        tiff.extend_from_slice(b"GPS-31.2304N-121.4737E");
        let mut payload = b"Exif\x00\x00".to_vec();
        payload.extend(tiff);
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        segment.extend(payload);
        segment
    }

    #[test]
    fn png_round_trip_keeps_dimensions_and_makes_a_thumbnail() -> TestResult {
        let png = png_bytes(&DynamicImage::ImageRgb8(gradient(640, 400)))?;
        let out = process(&png, &UploadLimits::default())?;
        assert_eq!((out.width, out.height), (640, 400));
        // No alpha: stored as a JPEG photo.
        assert_eq!((out.content_type, out.extension), ("image/jpeg", "jpg"));
        let stored = decode(&out.bytes)?;
        assert_eq!((stored.width(), stored.height()), (640, 400));
        let thumb = decode(&out.thumbnail)?;
        assert_eq!((thumb.width(), thumb.height()), (320, 200));
        Ok(())
    }

    #[test]
    fn png_with_alpha_stays_png_and_thumbnail_is_flattened() -> TestResult {
        let rgba =
            ImageBuffer::from_fn(40, 30, |x, _| Rgba([0, 0, 0, if x < 20 { 0 } else { 255 }]));
        let png = png_bytes(&DynamicImage::ImageRgba8(rgba))?;
        let out = process(&png, &UploadLimits::default())?;
        assert_eq!((out.content_type, out.extension), ("image/png", "png"));
        let stored = decode(&out.bytes)?.to_rgba8();
        assert_eq!(stored.get_pixel(0, 0).0[3], 0, "alpha kept in the original");
        // Small image: thumbnail keeps its size; the transparent half turns white, not black.
        let thumb = decode(&out.thumbnail)?.to_rgb8();
        assert_eq!(thumb.dimensions(), (40, 30));
        assert!(thumb.get_pixel(2, 15).0.iter().all(|c| *c > 240));
        assert!(thumb.get_pixel(38, 15).0.iter().all(|c| *c < 15));
        Ok(())
    }

    #[test]
    fn jpeg_round_trip_keeps_dimensions_and_makes_a_thumbnail() -> TestResult {
        let jpeg = jpeg_bytes(500, 300)?;
        let out = process(&jpeg, &UploadLimits::default())?;
        assert_eq!((out.width, out.height), (500, 300));
        assert_eq!(out.content_type, "image/jpeg");
        assert_eq!(sniff(&out.bytes), Some(ImageFormat::Jpeg));
        let thumb = decode(&out.thumbnail)?;
        assert_eq!((thumb.width(), thumb.height()), (320, 192));
        Ok(())
    }

    #[test]
    fn exif_is_applied_then_stripped() -> TestResult {
        let jpeg = jpeg_bytes(40, 20)?;
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend(exif_app1_rotate_90());
        with_exif.extend_from_slice(&jpeg[2..]);
        assert!(contains(&with_exif, b"Exif\0\0"));

        let out = process(&with_exif, &UploadLimits::default())?;
        assert!(!contains(&out.bytes, b"Exif"), "EXIF segment must be gone");
        assert!(
            !contains(&out.bytes, b"GPS-31.2304N"),
            "GPS data must be gone"
        );
        assert!(!contains(&out.thumbnail, b"Exif"));
        // Orientation 6 (rotate 90°) turned the 40×20 landscape into a 20×40 portrait.
        assert_eq!((out.width, out.height), (20, 40));
        let stored = decode(&out.bytes)?;
        assert_eq!((stored.width(), stored.height()), (20, 40));
        Ok(())
    }

    #[test]
    fn webp_and_gif_are_accepted() -> TestResult {
        let image = DynamicImage::ImageRgb8(gradient(30, 20));
        let mut webp = Vec::new();
        image.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut webp))?;
        let mut gif = Vec::new();
        image
            .to_rgba8()
            .write_with_encoder(image::codecs::gif::GifEncoder::new(&mut gif))?;
        for (name, bytes) in [("webp", webp), ("gif", gif)] {
            let out =
                process(&bytes, &UploadLimits::default()).map_err(|e| format!("{name}: {e}"))?;
            assert_eq!((out.width, out.height), (30, 20), "{name}");
        }
        Ok(())
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        let bomb = png_claiming(100_000, 100_000);
        assert_eq!(sniff(&bomb), Some(ImageFormat::Png));
        let started = std::time::Instant::now();
        let result = process(&bomb, &UploadLimits::default());
        assert!(
            matches!(
                result,
                Err(UploadError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    max_pixels: 40_000_000
                })
            ),
            "{result:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn too_many_pixels_within_the_edge_limit_is_refused() {
        // 9000×9000 fits max_dimension but is 81 megapixels.
        let result = process(&png_claiming(9000, 9000), &UploadLimits::default());
        assert!(
            matches!(
                result,
                Err(UploadError::TooManyPixels {
                    width: 9000,
                    height: 9000,
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn an_image_needing_more_than_the_decode_memory_is_refused() -> TestResult {
        let png = png_bytes(&DynamicImage::ImageRgb8(gradient(1000, 1000)))?;
        let limits = UploadLimits {
            decode_memory_bytes: 1024 * 1024,
            ..UploadLimits::default()
        };
        let result = process(&png, &limits);
        assert!(
            matches!(result, Err(UploadError::TooManyPixels { .. })),
            "{result:?}"
        );
        Ok(())
    }

    #[test]
    fn text_and_pdf_are_unsupported_whatever_they_claim() {
        for bytes in [
            &b"hello, this is not an image"[..],
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"II*\x00\x08\x00\x00\x00", // TIFF: decodable by some, accepted by none here
        ] {
            assert!(
                matches!(
                    process(bytes, &UploadLimits::default()),
                    Err(UploadError::UnsupportedType)
                ),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn truncated_image_data_is_corrupt() -> TestResult {
        let png = png_bytes(&DynamicImage::ImageRgb8(gradient(200, 200)))?;
        let result = process(&png[..png.len() / 2], &UploadLimits::default());
        assert!(matches!(result, Err(UploadError::Corrupt(_))), "{result:?}");
        // Just the magic, nothing else.
        let result = process(b"\x89PNG\r\n\x1a\n", &UploadLimits::default());
        assert!(matches!(result, Err(UploadError::Corrupt(_))), "{result:?}");
        Ok(())
    }

    #[test]
    fn empty_is_empty() {
        assert!(matches!(
            process(b"", &UploadLimits::default()),
            Err(UploadError::Empty)
        ));
    }

    #[test]
    fn over_max_bytes_is_too_large() -> TestResult {
        let jpeg = jpeg_bytes(64, 64)?;
        let limits = UploadLimits {
            max_bytes: jpeg.len() - 1,
            ..UploadLimits::default()
        };
        let result = process(&jpeg, &limits);
        assert!(
            matches!(result, Err(UploadError::TooLarge { max_bytes }) if max_bytes == jpeg.len() - 1),
            "{result:?}"
        );
        Ok(())
    }
}
