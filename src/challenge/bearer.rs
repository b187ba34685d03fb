//! Bearer and DPoP challenges with the parameters of RFC 6750 §3 and RFC 9470 §3.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use super::{
    is_forbidden_control, parse_challenges, Challenge, ChallengeError, MAX_HEADER_VALUE_LEN,
};

/// Auth-scheme of a challenge that carries an OAuth access token error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449), which uses the same error parameters.
    DPoP,
}

impl AuthScheme {
    /// Returns the scheme name as it is sent.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }

    /// Returns the scheme named `name`, compared case-insensitively, or `None` for any other
    /// scheme.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Bearer, Self::DPoP]
            .into_iter()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Value of the `error` parameter: the codes of RFC 6750 §3.1 and RFC 9470 §3.
///
/// Codes compare case-sensitively. Parsing never returns `Other` for a code that has a variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BearerErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_token`: the access token is expired, revoked, malformed or invalid.
    InvalidToken,
    /// `insufficient_scope`: the access token lacks a required scope.
    InsufficientScope,
    /// `insufficient_user_authentication` (RFC 9470): the authentication behind the access token is
    /// too weak or too old.
    InsufficientUserAuthentication,
    /// Any other code, kept as received.
    Other(String),
}

impl BearerErrorCode {
    /// Returns the code as it is sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
            Self::Other(code) => code,
        }
    }
}

impl From<&str> for BearerErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            "insufficient_user_authentication" => Self::InsufficientUserAuthentication,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl FromStr for BearerErrorCode {
    type Err = Infallible;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(code))
    }
}

impl fmt::Display for BearerErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Bearer` or `DPoP` challenge with the parameters of RFC 6750 §3 and RFC 9470 §3.
///
/// Other parameters, such as `error_uri` and the DPoP `algs`, are ignored when parsing and never
/// sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BearerChallenge {
    /// Auth-scheme of the challenge.
    pub scheme: AuthScheme,
    /// `realm`: the protection space.
    pub realm: Option<String>,
    /// `error`: why the request failed.
    pub error: Option<BearerErrorCode>,
    /// `error_description`: a sentence for the developer of the client, not for end users.
    pub error_description: Option<String>,
    /// `scope`: the space-separated scopes that the resource requires.
    pub scope: Option<String>,
    /// `acr_values`: acceptable authentication context class references in order of preference. Any
    /// one of them satisfies the resource. An empty list means the parameter is absent.
    pub acr_values: Vec<String>,
    /// `max_age`: maximum time in seconds since the user last actively authenticated. `Some(0)`
    /// requires a new authentication and is sent, unlike `None`.
    pub max_age: Option<u64>,
}

impl BearerChallenge {
    /// Creates a `Bearer` challenge without parameters, the reply to a request without an access
    /// token (RFC 6750 §3.1).
    #[must_use]
    pub fn bearer() -> Self {
        Self {
            scheme: AuthScheme::Bearer,
            realm: None,
            error: None,
            error_description: None,
            scope: None,
            acr_values: Vec::new(),
            max_age: None,
        }
    }

    /// Creates the step-up challenge of RFC 9470 §3 with its requirements.
    ///
    /// `description` goes to the client as it is, so pass a fixed sentence, never error text from a
    /// library.
    #[must_use]
    pub fn insufficient_user_authentication(
        description: &str,
        acr_values: Vec<String>,
        max_age: Option<u64>,
    ) -> Self {
        Self {
            error: Some(BearerErrorCode::InsufficientUserAuthentication),
            error_description: Some(description.to_owned()),
            acr_values,
            max_age,
            ..Self::bearer()
        }
    }

    /// Creates an `invalid_token` challenge (RFC 6750 §3.1).
    ///
    /// `description` goes to the client as it is, so pass a fixed sentence, never error text from a
    /// library.
    #[must_use]
    pub fn invalid_token(description: &str) -> Self {
        Self {
            error: Some(BearerErrorCode::InvalidToken),
            error_description: Some(description.to_owned()),
            ..Self::bearer()
        }
    }

    /// Parses a `WWW-Authenticate` field value and returns its first `Bearer` or `DPoP` challenge,
    /// or `None` when it has neither.
    ///
    /// `acr_values` is split on spaces, with empty items dropped. `max_age` may be a token or a
    /// quoted-string.
    ///
    /// # Errors
    ///
    /// Returns any error of [`parse_challenges`] for the whole value, even when the malformed part
    /// belongs to another scheme. For the challenge that is returned, also
    /// [`ChallengeError::InvalidMaxAge`] when `max_age` is not a non-negative integer and
    /// [`ChallengeError::UnexpectedToken68`] when it has a token68.
    pub fn from_header_value(value: &str) -> Result<Option<Self>, ChallengeError> {
        let challenges = parse_challenges(value)?;
        for challenge in &challenges {
            if let Some(bearer) = Self::from_challenge(challenge)? {
                return Ok(Some(bearer));
            }
        }
        Ok(None)
    }

    /// Reads a parsed challenge, or returns `None` when its scheme is neither `Bearer` nor `DPoP`.
    ///
    /// # Errors
    ///
    /// Returns [`ChallengeError::InvalidMaxAge`] when `max_age` is not a non-negative integer and
    /// [`ChallengeError::UnexpectedToken68`] when the challenge has a token68.
    pub fn from_challenge(challenge: &Challenge) -> Result<Option<Self>, ChallengeError> {
        let Some(scheme) = AuthScheme::from_name(&challenge.scheme) else {
            return Ok(None);
        };
        if challenge.token68.is_some() {
            return Err(ChallengeError::UnexpectedToken68 { scheme });
        }

        let text = |name: &str| challenge.param(name).map(str::to_owned);
        let acr_values = challenge
            .param("acr_values")
            .map(|list| {
                list.split(' ')
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let max_age = challenge.param("max_age").map(parse_max_age).transpose()?;

        Ok(Some(Self {
            scheme,
            realm: text("realm"),
            error: challenge.param("error").map(BearerErrorCode::from),
            error_description: text("error_description"),
            scope: text("scope"),
            acr_values,
            max_age,
        }))
    }

    /// Formats the challenge as a `WWW-Authenticate` field value.
    ///
    /// The scheme comes first, then each present parameter as `name="value"`, separated by `, ` in
    /// the order `realm`, `error`, `error_description`, `scope`, `acr_values`, `max_age`. Every
    /// value is a quoted-string with `\` and `"` escaped. A challenge without parameters is the
    /// bare scheme, such as `Bearer`.
    ///
    /// # Errors
    ///
    /// Returns [`ChallengeError::ControlCharacterInValue`] when a value contains CR, LF or another
    /// control character except horizontal tab, [`ChallengeError::NonAsciiValue`] when it contains
    /// a non-ASCII character, [`ChallengeError::InvalidAcrValue`] when an acr value is empty or
    /// contains whitespace, and [`ChallengeError::TooLong`] when the result would exceed
    /// [`MAX_HEADER_VALUE_LEN`].
    pub fn to_header_value(&self) -> Result<String, ChallengeError> {
        if self
            .acr_values
            .iter()
            .any(|value| value.is_empty() || value.contains(|c: char| c.is_ascii_whitespace()))
        {
            return Err(ChallengeError::InvalidAcrValue);
        }

        let params = [
            ("realm", self.realm.clone()),
            (
                "error",
                self.error.as_ref().map(|code| code.as_str().to_owned()),
            ),
            ("error_description", self.error_description.clone()),
            ("scope", self.scope.clone()),
            (
                "acr_values",
                Some(self.acr_values.join(" ")).filter(|list| !list.is_empty()),
            ),
            ("max_age", self.max_age.map(|seconds| seconds.to_string())),
        ];

        let mut header = String::from(self.scheme.as_str());
        let mut separator = " ";
        for (name, value) in params {
            let Some(value) = value else { continue };
            header.push_str(separator);
            push_param(&mut header, name, &value)?;
            separator = ", ";
        }

        if header.len() > MAX_HEADER_VALUE_LEN {
            return Err(ChallengeError::TooLong {
                len: header.len(),
                max: MAX_HEADER_VALUE_LEN,
            });
        }
        Ok(header)
    }

    /// Returns whether the challenge requests step-up authentication, which is when `error` is
    /// `insufficient_user_authentication`.
    #[must_use]
    pub fn is_step_up(&self) -> bool {
        self.error == Some(BearerErrorCode::InsufficientUserAuthentication)
    }
}

/// Parses `max_age`, which RFC 9470 §3 requires to be a non-negative integer in token or
/// quoted-string form.
fn parse_max_age(value: &str) -> Result<u64, ChallengeError> {
    // `u64::from_str` alone would also accept a leading `+`.
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(ChallengeError::InvalidMaxAge);
    }
    value.parse().map_err(|_| ChallengeError::InvalidMaxAge)
}

/// Appends `name="value"` with `\` and `"` escaped.
fn push_param(header: &mut String, name: &'static str, value: &str) -> Result<(), ChallengeError> {
    header.push_str(name);
    header.push_str("=\"");
    for c in value.chars() {
        if is_forbidden_control(c) {
            return Err(ChallengeError::ControlCharacterInValue { param: name });
        }
        if !c.is_ascii() {
            return Err(ChallengeError::NonAsciiValue { param: name });
        }
        if c == '"' || c == '\\' {
            header.push('\\');
        }
        header.push(c);
    }
    header.push('"');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    fn parse(value: &str) -> BearerChallenge {
        match BearerChallenge::from_header_value(value) {
            Ok(Some(challenge)) => challenge,
            other => panic!("no Bearer challenge in {value:?}: {other:?}"),
        }
    }

    #[test]
    fn quoted_comma_stays_in_value() {
        let challenge = parse(
            r#"Bearer error="insufficient_user_authentication", error_description="Step up, then retry", acr_values="urn:okta:loa:2fa:any""#,
        );
        assert_eq!(
            challenge.error,
            Some(BearerErrorCode::InsufficientUserAuthentication)
        );
        assert_eq!(
            challenge.error_description.as_deref(),
            Some("Step up, then retry")
        );
        assert_eq!(challenge.acr_values, strings(&["urn:okta:loa:2fa:any"]));
        assert!(challenge.is_step_up());
    }

    #[test]
    fn lone_comma_is_an_acr_value() {
        let challenge = parse(r#"Bearer error="insufficient_user_authentication", acr_values=",""#);
        assert_eq!(challenge.acr_values, strings(&[","]));
    }

    #[test]
    fn escaped_quotes_are_unescaped() {
        let challenge = parse(
            r#"Bearer error="insufficient_user_authentication", error_description="say \"hi, there\"", max_age=60"#,
        );
        assert_eq!(
            challenge.error_description.as_deref(),
            Some(r#"say "hi, there""#)
        );
        assert_eq!(challenge.max_age, Some(60));
    }

    #[test]
    fn param_names_ignore_case() {
        let challenge = parse(
            r#"Bearer error="insufficient_user_authentication", ACR_VALUES="urn:okta:loa:2fa:any""#,
        );
        assert_eq!(challenge.acr_values, strings(&["urn:okta:loa:2fa:any"]));
        assert!(challenge.is_step_up());
    }

    #[test]
    fn acr_values_keep_order() {
        let challenge = parse(r#"Bearer acr_values="phr urn:okta:loa:2fa:any""#);
        assert_eq!(
            challenge.acr_values,
            strings(&["phr", "urn:okta:loa:2fa:any"])
        );

        let spaced = parse(r#"Bearer acr_values="  phr   urn:okta:loa:2fa:any ""#);
        assert_eq!(spaced.acr_values, strings(&["phr", "urn:okta:loa:2fa:any"]));

        let empty = parse(r#"Bearer acr_values="""#);
        assert!(empty.acr_values.is_empty());
    }

    #[test]
    fn max_age_zero_is_kept() {
        let challenge = parse(r#"Bearer error="insufficient_user_authentication", max_age=0"#);
        assert_eq!(challenge.max_age, Some(0));

        let quoted = parse(r#"Bearer max_age="0""#);
        assert_eq!(quoted.max_age, Some(0));
    }

    #[test]
    fn formatter_quotes_and_escapes() {
        let challenge = BearerChallenge::insufficient_user_authentication(
            r#"Step up, then "retry" \ later"#,
            strings(&["phr", "urn:okta:loa:2fa:any"]),
            Some(0),
        );
        assert_eq!(
            challenge.to_header_value(),
            Ok(concat!(
                r#"Bearer error="insufficient_user_authentication", "#,
                r#"error_description="Step up, then \"retry\" \\ later", "#,
                r#"acr_values="phr urn:okta:loa:2fa:any", max_age="0""#,
            )
            .to_owned())
        );
    }

    #[test]
    fn formatter_writes_every_param() {
        let challenge = BearerChallenge {
            scheme: AuthScheme::DPoP,
            realm: Some("api".to_owned()),
            error: Some(BearerErrorCode::InsufficientScope),
            error_description: Some("More scope is required".to_owned()),
            scope: Some("read write".to_owned()),
            acr_values: strings(&["phr"]),
            max_age: Some(300),
        };
        assert_eq!(
            challenge.to_header_value(),
            Ok(concat!(
                r#"DPoP realm="api", error="insufficient_scope", error_description="More scope is required", "#,
                r#"scope="read write", acr_values="phr", max_age="300""#,
            )
            .to_owned())
        );
    }

    #[test]
    fn formatter_writes_bare_scheme() {
        assert_eq!(
            BearerChallenge::bearer().to_header_value(),
            Ok("Bearer".to_owned())
        );
        let dpop = BearerChallenge {
            scheme: AuthScheme::DPoP,
            ..BearerChallenge::bearer()
        };
        assert_eq!(dpop.to_header_value(), Ok("DPoP".to_owned()));
        assert_eq!(
            BearerChallenge::invalid_token("The access token is invalid").to_header_value(),
            Ok(
                r#"Bearer error="invalid_token", error_description="The access token is invalid""#
                    .to_owned()
            )
        );
    }

    #[test]
    fn formatter_rejects_control_characters() {
        let injections = [
            "a\r\nSet-Cookie: x=y",
            "a\rb",
            "a\nb",
            "a\u{0}b",
            "a\u{1b}b",
            "a\u{7f}b",
        ];
        for injection in injections {
            let fields: [(&str, BearerChallenge); 5] = [
                (
                    "realm",
                    BearerChallenge {
                        realm: Some(injection.to_owned()),
                        ..BearerChallenge::bearer()
                    },
                ),
                (
                    "error",
                    BearerChallenge {
                        error: Some(BearerErrorCode::Other(injection.to_owned())),
                        ..BearerChallenge::bearer()
                    },
                ),
                (
                    "error_description",
                    BearerChallenge::invalid_token(injection),
                ),
                (
                    "scope",
                    BearerChallenge {
                        scope: Some(injection.to_owned()),
                        ..BearerChallenge::bearer()
                    },
                ),
                (
                    "realm",
                    BearerChallenge {
                        realm: Some(injection.to_owned()),
                        scheme: AuthScheme::DPoP,
                        ..BearerChallenge::bearer()
                    },
                ),
            ];
            for (param, challenge) in fields {
                assert_eq!(
                    challenge.to_header_value(),
                    Err(ChallengeError::ControlCharacterInValue { param }),
                    "value {injection:?} in {param}"
                );
            }
        }
    }

    #[test]
    fn formatter_accepts_horizontal_tab() {
        let challenge = BearerChallenge::invalid_token("a\tb");
        assert_eq!(
            challenge.to_header_value(),
            Ok("Bearer error=\"invalid_token\", error_description=\"a\tb\"".to_owned())
        );
    }

    #[test]
    fn formatter_rejects_non_ascii() {
        let challenge = BearerChallenge::invalid_token("jeton expiré");
        assert_eq!(
            challenge.to_header_value(),
            Err(ChallengeError::NonAsciiValue {
                param: "error_description"
            })
        );
    }

    #[test]
    fn formatter_rejects_bad_acr_values() {
        for acr_values in [vec![""], vec!["a b"], vec!["phr", "a\tb"], vec!["a\r\nb"]] {
            let challenge =
                BearerChallenge::insufficient_user_authentication("x", strings(&acr_values), None);
            assert_eq!(
                challenge.to_header_value(),
                Err(ChallengeError::InvalidAcrValue),
                "acr_values {acr_values:?}"
            );
        }
    }

    #[test]
    fn formatter_limits_length() {
        let challenge = BearerChallenge::invalid_token(&"a".repeat(MAX_HEADER_VALUE_LEN));
        assert!(matches!(
            challenge.to_header_value(),
            Err(ChallengeError::TooLong { .. })
        ));
    }

    #[test]
    fn format_then_parse_round_trips() {
        let cases = [
            BearerChallenge::bearer(),
            BearerChallenge::invalid_token("The access token is invalid"),
            BearerChallenge::insufficient_user_authentication(
                r#"say "hi, there" \ twice"#,
                strings(&["phr", "urn:okta:loa:2fa:any", ","]),
                Some(0),
            ),
            BearerChallenge::insufficient_user_authentication(
                "A more recent authentication is required",
                Vec::new(),
                Some(u64::MAX),
            ),
            BearerChallenge {
                scheme: AuthScheme::DPoP,
                realm: Some("=,\"\\\t".to_owned()),
                error: Some(BearerErrorCode::Other("custom_error".to_owned())),
                error_description: Some(String::new()),
                scope: Some("read write".to_owned()),
                acr_values: strings(&["urn:okta:loa:1fa:pwd"]),
                max_age: Some(300),
            },
        ];

        for original in cases {
            let header = original.to_header_value();
            let Ok(header) = header else {
                panic!("format failed for {original:?}: {header:?}");
            };
            assert_eq!(
                BearerChallenge::from_header_value(&header),
                Ok(Some(original)),
                "header {header:?}"
            );
        }
    }

    #[test]
    fn first_bearer_or_dpop_is_returned() {
        let challenge =
            parse(r#"Basic realm="x", DPoP algs="ES256", error="invalid_token", Bearer realm="y""#);
        assert_eq!(challenge.scheme, AuthScheme::DPoP);
        assert_eq!(challenge.error, Some(BearerErrorCode::InvalidToken));
        assert_eq!(challenge.realm, None);

        let lowercase = parse(r#"bearer realm="y""#);
        assert_eq!(lowercase.scheme, AuthScheme::Bearer);
        assert_eq!(lowercase.realm.as_deref(), Some("y"));
    }

    #[test]
    fn other_schemes_give_none() {
        for value in ["", r#"Basic realm="x""#, "Negotiate abc==", "Bearerx"] {
            assert_eq!(
                BearerChallenge::from_header_value(value),
                Ok(None),
                "value {value:?}"
            );
        }
    }

    #[test]
    fn bearer_rejects_token68() {
        assert_eq!(
            BearerChallenge::from_header_value("Bearer abc=="),
            Err(ChallengeError::UnexpectedToken68 {
                scheme: AuthScheme::Bearer
            })
        );
    }

    #[test]
    fn invalid_max_age_is_an_error() {
        for max_age in [
            "-1",
            "+5",
            "1.5",
            "abc",
            r#""""#,
            r#"" 5""#,
            "18446744073709551616",
            "0x10",
        ] {
            let value = format!("Bearer max_age={max_age}");
            assert_eq!(
                BearerChallenge::from_header_value(&value),
                Err(ChallengeError::InvalidMaxAge),
                "value {value:?}"
            );
        }

        assert_eq!(
            parse("Bearer max_age=18446744073709551615").max_age,
            Some(u64::MAX)
        );
        assert_eq!(parse("Bearer max_age=007").max_age, Some(7));
    }

    #[test]
    fn malformed_header_is_an_error() {
        assert_eq!(
            BearerChallenge::from_header_value(r#"Bearer error="unterminated"#),
            Err(ChallengeError::UnterminatedQuotedString { position: 13 })
        );
        assert_eq!(
            BearerChallenge::from_header_value(r#"Bearer error="a", error="b""#),
            Err(ChallengeError::DuplicateParam {
                name: "error".to_owned()
            })
        );
    }

    #[test]
    fn error_codes_parse_and_print() {
        let cases = [
            ("invalid_request", BearerErrorCode::InvalidRequest),
            ("invalid_token", BearerErrorCode::InvalidToken),
            ("insufficient_scope", BearerErrorCode::InsufficientScope),
            (
                "insufficient_user_authentication",
                BearerErrorCode::InsufficientUserAuthentication,
            ),
            (
                "Invalid_Token",
                BearerErrorCode::Other("Invalid_Token".to_owned()),
            ),
            (
                "use_dpop_nonce",
                BearerErrorCode::Other("use_dpop_nonce".to_owned()),
            ),
        ];
        for (text, code) in cases {
            let Ok(parsed) = text.parse::<BearerErrorCode>();
            assert_eq!(parsed, code);
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
        }
    }

    #[test]
    fn only_step_up_error_is_step_up() {
        assert!(!BearerChallenge::bearer().is_step_up());
        assert!(!BearerChallenge::invalid_token("x").is_step_up());
        assert!(
            BearerChallenge::insufficient_user_authentication("x", Vec::new(), None).is_step_up()
        );
    }

    #[test]
    fn scheme_names_match_case_insensitively() {
        assert_eq!(AuthScheme::from_name("bearer"), Some(AuthScheme::Bearer));
        assert_eq!(AuthScheme::from_name("DPOP"), Some(AuthScheme::DPoP));
        assert_eq!(AuthScheme::from_name("Basic"), None);
        assert_eq!(AuthScheme::DPoP.to_string(), "DPoP");
    }
}
