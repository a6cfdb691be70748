//! Report parsers: bytes in, measured values out. Each `parse` takes the bytes and the
//! origin (usually the file path, used in error messages) and never panics.

pub mod coverage;
pub mod junit;
pub mod perf;
pub mod sarif;

use quick_xml::events::BytesStart;

use crate::ReportError;

/// The attributes of an XML element as (local name, unescaped value) pairs.
pub(crate) fn xml_attributes(
    e: &BytesStart<'_>,
    origin: &str,
    format: &'static str,
) -> Result<Vec<(String, String)>, ReportError> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| {
            ReportError::new(origin, format, format!("malformed XML attribute: {err}"))
        })?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|err| {
                ReportError::new(
                    origin,
                    format,
                    format!("malformed XML attribute {key}: {err}"),
                )
            })?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

pub(crate) fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A numeric attribute; absent is `None`, present but not a number is an error.
pub(crate) fn num_attr(
    attrs: &[(String, String)],
    name: &str,
    element: &str,
    origin: &str,
    format: &'static str,
) -> Result<Option<f64>, ReportError> {
    match attr(attrs, name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| {
                ReportError::new(
                    origin,
                    format,
                    format!("<{element} {name}=\"{v}\">: {name} is not a number"),
                )
            }),
    }
}
