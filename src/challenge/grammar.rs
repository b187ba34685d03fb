//! Parser for the challenge list of RFC 9110 §11.6.1:
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! Challenges and their auth-params share the comma separator. After a comma, an element that reads
//! as `token BWS "="` is another parameter of the current challenge, and any other element starts
//! the next challenge.

use super::{
    is_forbidden_control, ChallengeError, MAX_CHALLENGES, MAX_HEADER_VALUE_LEN, MAX_PARAMS,
};

/// One challenge of a `WWW-Authenticate` field value: an auth-scheme followed by a token68 or by
/// auth-params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Auth-scheme as written in the field value. Schemes are case-insensitive, so compare it with
    /// [`Challenge::has_scheme`].
    pub scheme: String,
    /// Token68 that follows the scheme in place of auth-params.
    pub token68: Option<String>,
    /// Auth-params in field order, with names lowercased and quoted-string values unescaped.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Returns the value of the auth-param `name`, compared case-insensitively.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(param, _)| param.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns whether the challenge uses the auth-scheme `scheme`, compared case-insensitively.
    #[must_use]
    pub fn has_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// Parses every challenge in one `WWW-Authenticate` field value, in field order.
///
/// An empty value, or one that contains only commas and whitespace, gives an empty list. A response
/// with several `WWW-Authenticate` fields needs one call per field.
///
/// # Errors
///
/// Returns [`ChallengeError::TooLong`], [`ChallengeError::TooManyChallenges`] or
/// [`ChallengeError::TooManyParams`] when the value exceeds the limits in [`super`], and another
/// [`ChallengeError`] variant, naming the byte offset, when the value does not match the grammar. A
/// repeated parameter name in one challenge is [`ChallengeError::DuplicateParam`].
pub fn parse_challenges(header_value: &str) -> Result<Vec<Challenge>, ChallengeError> {
    if header_value.len() > MAX_HEADER_VALUE_LEN {
        return Err(ChallengeError::TooLong {
            len: header_value.len(),
            max: MAX_HEADER_VALUE_LEN,
        });
    }

    let mut cursor = Cursor {
        input: header_value,
        position: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.at_end() {
            return Ok(challenges);
        }
        if challenges.len() == MAX_CHALLENGES {
            return Err(ChallengeError::TooManyChallenges {
                max: MAX_CHALLENGES,
            });
        }
        challenges.push(parse_challenge(&mut cursor)?);
    }
}

/// Parses one challenge that starts at the cursor and stops before the comma that ends it.
fn parse_challenge(cursor: &mut Cursor<'_>) -> Result<Challenge, ChallengeError> {
    // 1. The auth-scheme is a token. A token followed by `=` is a parameter that lacks a scheme.
    let scheme_start = cursor.position;
    let scheme = cursor.token().ok_or(ChallengeError::ExpectedToken {
        position: scheme_start,
    })?;
    let has_space = cursor.skip_whitespace();
    if cursor.peek() == Some(b'=') {
        return Err(ChallengeError::MissingScheme {
            position: scheme_start,
        });
    }
    if !has_space && !cursor.at_list_end() {
        return Err(ChallengeError::UnexpectedCharacter {
            position: cursor.position,
        });
    }
    let mut challenge = Challenge {
        scheme: scheme.to_owned(),
        token68: None,
        params: Vec::new(),
    };

    // 2. A token68 follows the space only when nothing but the end of the list element comes after
    //    it. Otherwise `realm="x"` would read as the token68 `realm=` followed by garbage.
    let token68_start = cursor.position;
    if let Some(token68) = cursor.token68() {
        cursor.skip_whitespace();
        if cursor.at_list_end() {
            challenge.token68 = Some(token68.to_owned());
            return Ok(challenge);
        }
    }
    cursor.position = token68_start;

    // 3. Auth-params follow until the field value ends or an element that is not `name=` starts the
    //    next challenge. A parameter after a bare `Bearer,` still belongs to `Bearer`. That is more
    //    lenient than the grammar, which wants a space, not a comma, after the scheme.
    loop {
        let after_comma = cursor.skip_separators();
        if cursor.at_end() {
            return Ok(challenge);
        }

        let name_start = cursor.position;
        let name = cursor.token().ok_or(ChallengeError::ExpectedToken {
            position: name_start,
        })?;
        cursor.skip_whitespace();
        if cursor.peek() != Some(b'=') {
            // The next challenge must be separated from this one by a comma.
            if !after_comma {
                return Err(ChallengeError::UnexpectedCharacter {
                    position: cursor.position,
                });
            }
            cursor.position = name_start;
            return Ok(challenge);
        }
        cursor.position += 1;
        cursor.skip_whitespace();

        let value = parse_param_value(cursor)?;
        add_param(&mut challenge, name.to_ascii_lowercase(), value)?;

        cursor.skip_whitespace();
        if !cursor.at_list_end() {
            return Err(ChallengeError::UnexpectedCharacter {
                position: cursor.position,
            });
        }
    }
}

fn parse_param_value(cursor: &mut Cursor<'_>) -> Result<String, ChallengeError> {
    if cursor.peek() == Some(b'"') {
        return cursor.quoted_string();
    }
    let value_start = cursor.position;
    cursor
        .token()
        .map(str::to_owned)
        .ok_or(ChallengeError::MissingParamValue {
            position: value_start,
        })
}

fn add_param(challenge: &mut Challenge, name: String, value: String) -> Result<(), ChallengeError> {
    if challenge
        .params
        .iter()
        .any(|(existing, _)| *existing == name)
    {
        return Err(ChallengeError::DuplicateParam { name });
    }
    if challenge.params.len() == MAX_PARAMS {
        return Err(ChallengeError::TooManyParams { max: MAX_PARAMS });
    }
    challenge.params.push((name, value));
    Ok(())
}

/// Byte position in the field value. Every helper advances only over ASCII bytes, so `position`
/// always lies on a `char` boundary.
struct Cursor<'a> {
    input: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.position).copied()
    }

    fn at_end(&self) -> bool {
        self.position >= self.input.len()
    }

    /// Returns whether the cursor is at the end of a list element: a comma or the end of the value.
    fn at_list_end(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }

    /// Advances over optional whitespace (`OWS`, spaces and tabs) and returns whether there was
    /// any.
    fn skip_whitespace(&mut self) -> bool {
        let start = self.position;
        self.take_while(|byte| byte == b' ' || byte == b'\t');
        self.position > start
    }

    /// Advances over whitespace and commas, which also skips empty list elements, and returns
    /// whether there was a comma.
    fn skip_separators(&mut self) -> bool {
        let separators = self.take_while(|byte| byte == b' ' || byte == b'\t' || byte == b',');
        separators.contains(',')
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.position;
        while self.peek().is_some_and(&accept) {
            self.position += 1;
        }
        self.input.get(start..self.position).unwrap_or_default()
    }

    /// Reads a token (`1*tchar`), or returns `None` without moving when there is none.
    fn token(&mut self) -> Option<&'a str> {
        Some(self.take_while(is_tchar)).filter(|token| !token.is_empty())
    }

    /// Reads a token68, or returns `None` when there is none. The cursor may have moved in both
    /// cases.
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.position;
        if self.take_while(is_token68_char).is_empty() {
            return None;
        }
        self.take_while(|byte| byte == b'=');
        self.input.get(start..self.position)
    }

    /// Reads a quoted-string that starts at the cursor and returns its unescaped content.
    ///
    /// Characters outside US-ASCII are kept, because the grammar allows `obs-text` in quoted
    /// strings.
    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        let start = self.position;
        let unterminated = ChallengeError::UnterminatedQuotedString { position: start };
        let Some(content) = self.input.get(start + 1..) else {
            return Err(unterminated);
        };

        let mut value = String::new();
        let mut escaped = false;
        for (offset, c) in content.char_indices() {
            let position = start + 1 + offset;
            if is_forbidden_control(c) {
                return Err(ChallengeError::ControlCharacter { position });
            }
            if escaped {
                value.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.position = position + 1;
                return Ok(value);
            } else {
                value.push(c);
            }
        }
        Err(unterminated)
    }
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Characters of a token68 before its trailing `=` padding (RFC 9110 §11.2).
fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn challenge(scheme: &str, pairs: &[(&str, &str)]) -> Challenge {
        Challenge {
            scheme: scheme.to_owned(),
            token68: None,
            params: params(pairs),
        }
    }

    fn with_token68(scheme: &str, token68: &str) -> Challenge {
        Challenge {
            scheme: scheme.to_owned(),
            token68: Some(token68.to_owned()),
            params: Vec::new(),
        }
    }

    #[test]
    fn parse_accepts_valid_values() {
        let cases: Vec<(&str, Vec<Challenge>)> = vec![
            ("", vec![]),
            (" , ,, ", vec![]),
            ("Bearer", vec![challenge("Bearer", &[])]),
            ("  Bearer  ", vec![challenge("Bearer", &[])]),
            (
                r#"Bearer realm="example""#,
                vec![challenge("Bearer", &[("realm", "example")])],
            ),
            (
                "Bearer realm=example",
                vec![challenge("Bearer", &[("realm", "example")])],
            ),
            (
                r#"Bearer realm = "a" ,  error	=	invalid_token"#,
                vec![challenge(
                    "Bearer",
                    &[("realm", "a"), ("error", "invalid_token")],
                )],
            ),
            (
                r#"Bearer realm="a",error="b""#,
                vec![challenge("Bearer", &[("realm", "a"), ("error", "b")])],
            ),
            (
                r#"Bearer realm="a", , ,error="b","#,
                vec![challenge("Bearer", &[("realm", "a"), ("error", "b")])],
            ),
            (
                r#"BEARER Realm="a", ERROR="b""#,
                vec![challenge("BEARER", &[("realm", "a"), ("error", "b")])],
            ),
            (
                r#"Bearer realm="""#,
                vec![challenge("Bearer", &[("realm", "")])],
            ),
            (
                r#"Bearer realm="a, b", error="c""#,
                vec![challenge("Bearer", &[("realm", "a, b"), ("error", "c")])],
            ),
            (
                r#"Bearer realm="\"q\" \\ \x""#,
                vec![challenge("Bearer", &[("realm", r#""q" \ x"#)])],
            ),
            (
                "Bearer realm=\"tab\there\"",
                vec![challenge("Bearer", &[("realm", "tab\there")])],
            ),
            (
                r#"Bearer realm="café""#,
                vec![challenge("Bearer", &[("realm", "café")])],
            ),
            (
                "Basic dXNlcjpwYXNz",
                vec![with_token68("Basic", "dXNlcjpwYXNz")],
            ),
            ("Basic abc+/==", vec![with_token68("Basic", "abc+/==")]),
            ("Negotiate abc= ", vec![with_token68("Negotiate", "abc=")]),
            // The grammar reads a lone `name=` after the scheme as a token68, not as an empty
            // parameter.
            ("Bearer realm=", vec![with_token68("Bearer", "realm=")]),
            (
                "Basic abc==, Bearer",
                vec![with_token68("Basic", "abc=="), challenge("Bearer", &[])],
            ),
            (
                r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
                vec![
                    challenge(
                        "Newauth",
                        &[
                            ("realm", "apps"),
                            ("type", "1"),
                            ("title", r#"Login to "apps""#),
                        ],
                    ),
                    challenge("Basic", &[("realm", "simple")]),
                ],
            ),
            (
                r#"Bearer, DPoP algs="ES256""#,
                vec![
                    challenge("Bearer", &[]),
                    challenge("DPoP", &[("algs", "ES256")]),
                ],
            ),
            (
                r#"Bearer, realm="a""#,
                vec![challenge("Bearer", &[("realm", "a")])],
            ),
            (
                "Bearer,Basic,Digest",
                vec![
                    challenge("Bearer", &[]),
                    challenge("Basic", &[]),
                    challenge("Digest", &[]),
                ],
            ),
        ];

        for (input, expected) in cases {
            assert_eq!(parse_challenges(input), Ok(expected), "input: {input:?}");
        }
    }

    #[test]
    fn parse_rejects_invalid_values() {
        let cases: Vec<(&str, ChallengeError)> = vec![
            (
                r#"Bearer realm="abc"#,
                ChallengeError::UnterminatedQuotedString { position: 13 },
            ),
            (
                r#"Bearer realm="abc\"#,
                ChallengeError::UnterminatedQuotedString { position: 13 },
            ),
            (
                r#"Bearer realm="abc\""#,
                ChallengeError::UnterminatedQuotedString { position: 13 },
            ),
            (
                r#"Bearer realm=a\b"#,
                ChallengeError::UnexpectedCharacter { position: 14 },
            ),
            // `Bearer ="x"` is an auth-param named `Bearer`, because BWS is allowed before `=`.
            (
                r#"Bearer ="x""#,
                ChallengeError::MissingScheme { position: 0 },
            ),
            (
                r#"Bearer realm="a", ="x""#,
                ChallengeError::ExpectedToken { position: 18 },
            ),
            (
                r#"Bearer , ="x""#,
                ChallengeError::ExpectedToken { position: 9 },
            ),
            (r#"="x""#, ChallengeError::ExpectedToken { position: 0 }),
            (
                r#"realm="x", Bearer"#,
                ChallengeError::MissingScheme { position: 0 },
            ),
            (
                r#"Basic abc, realm="x""#,
                ChallengeError::MissingScheme { position: 11 },
            ),
            (
                r#"Bearer error="a", realm="#,
                ChallengeError::MissingParamValue { position: 24 },
            ),
            (
                r#"Bearer error="a", realm=, scope=x"#,
                ChallengeError::MissingParamValue { position: 24 },
            ),
            // Right after the scheme, `realm=` is a token68, so the parameter that follows has no
            // scheme.
            (
                "Bearer realm=, error=x",
                ChallengeError::MissingScheme { position: 15 },
            ),
            (
                r#"Bearer realm=="x""#,
                ChallengeError::MissingParamValue { position: 13 },
            ),
            (
                r#"Bearer realm="a" error="b""#,
                ChallengeError::UnexpectedCharacter { position: 17 },
            ),
            (
                r#"Bearer realm="a"error="b""#,
                ChallengeError::UnexpectedCharacter { position: 16 },
            ),
            (
                r#"Bearer realm="a" Basic"#,
                ChallengeError::UnexpectedCharacter { position: 17 },
            ),
            (
                "Bearer a b",
                ChallengeError::UnexpectedCharacter { position: 9 },
            ),
            (
                r#"Bearer"x""#,
                ChallengeError::UnexpectedCharacter { position: 6 },
            ),
            (
                "Bearer realm=\"a\r\nb\"",
                ChallengeError::ControlCharacter { position: 15 },
            ),
            (
                "Bearer realm=\"a\\\nb\"",
                ChallengeError::ControlCharacter { position: 16 },
            ),
            (
                "Bearer realm=\"\u{0}\"",
                ChallengeError::ControlCharacter { position: 14 },
            ),
            (
                "Bearer realm=\"\u{7f}\"",
                ChallengeError::ControlCharacter { position: 14 },
            ),
            (
                "Bearer realm=a\r\n",
                ChallengeError::UnexpectedCharacter { position: 14 },
            ),
            (
                r#"Bearer realm="a", REALM="b""#,
                ChallengeError::DuplicateParam {
                    name: "realm".to_owned(),
                },
            ),
            (
                "Bëarer",
                ChallengeError::UnexpectedCharacter { position: 1 },
            ),
            (
                r#"Bearer réalm="x""#,
                ChallengeError::UnexpectedCharacter { position: 8 },
            ),
            (
                "Bearer realm=café",
                ChallengeError::UnexpectedCharacter { position: 16 },
            ),
            (
                "\u{feff}Bearer",
                ChallengeError::ExpectedToken { position: 0 },
            ),
        ];

        for (input, expected) in cases {
            assert_eq!(parse_challenges(input), Err(expected), "input: {input:?}");
        }
    }

    #[test]
    fn parse_limits_length() {
        let padding = MAX_HEADER_VALUE_LEN - r#"Bearer realm="""#.len();
        let longest = format!(r#"Bearer realm="{}""#, "a".repeat(padding));
        assert_eq!(longest.len(), MAX_HEADER_VALUE_LEN);
        assert!(parse_challenges(&longest).is_ok());

        let too_long = format!(r#"Bearer realm="{}""#, "a".repeat(padding + 1));
        assert_eq!(
            parse_challenges(&too_long),
            Err(ChallengeError::TooLong {
                len: MAX_HEADER_VALUE_LEN + 1,
                max: MAX_HEADER_VALUE_LEN,
            })
        );

        let huge = "Bearer ".repeat(1 << 20);
        assert!(matches!(
            parse_challenges(&huge),
            Err(ChallengeError::TooLong { .. })
        ));
    }

    #[test]
    fn parse_limits_challenge_count() {
        let allowed = vec!["A"; MAX_CHALLENGES].join(", ");
        assert_eq!(
            parse_challenges(&allowed).map(|list| list.len()),
            Ok(MAX_CHALLENGES)
        );

        let too_many = vec!["A"; MAX_CHALLENGES + 1].join(", ");
        assert_eq!(
            parse_challenges(&too_many),
            Err(ChallengeError::TooManyChallenges {
                max: MAX_CHALLENGES
            })
        );
    }

    #[test]
    fn parse_limits_param_count() {
        let list = |count: usize| {
            let params: Vec<String> = (0..count).map(|i| format!("p{i}=v")).collect();
            format!("Bearer {}", params.join(", "))
        };

        let allowed = parse_challenges(&list(MAX_PARAMS));
        assert_eq!(allowed.map(|list| list[0].params.len()), Ok(MAX_PARAMS));

        assert_eq!(
            parse_challenges(&list(MAX_PARAMS + 1)),
            Err(ChallengeError::TooManyParams { max: MAX_PARAMS })
        );
    }

    #[test]
    fn param_lookup_ignores_case() {
        let parsed = parse_challenges(r#"Bearer Error="x""#);
        let Ok(challenges) = parsed else {
            panic!("parse failed: {parsed:?}");
        };
        assert_eq!(challenges[0].param("error"), Some("x"));
        assert_eq!(challenges[0].param("ERROR"), Some("x"));
        assert_eq!(challenges[0].param("realm"), None);
        assert!(challenges[0].has_scheme("bearer"));
        assert!(!challenges[0].has_scheme("dpop"));
    }

    /// Feeds every prefix of some tricky values, and many byte-level mutations of them, to the
    /// parser. The test passes when none of the calls panics, whatever each returns.
    #[test]
    fn parse_never_panics_on_mutations() {
        let seeds = [
            r#"Bearer error="insufficient_user_authentication", error_description="say \"hi, there\"", max_age=60"#,
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
            "Basic abc+/==, DPoP algs=\"ES256 PS256\", Bearer realm=café",
        ];
        let alphabet: &[char] = &['"', '\\', ',', '=', ' ', '\t', '\r', 'a', 'é', '\u{0}', '/'];

        // A fixed linear congruential generator keeps the test deterministic without a dependency.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap_or(0) % bound.max(1)
        };

        for seed in seeds {
            for (end, _) in seed.char_indices() {
                let _ = parse_challenges(&seed[..end]);
            }
            for _ in 0..2_000 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..=next(4) {
                    let index = next(chars.len());
                    let replacement = alphabet[next(alphabet.len())];
                    match next(3) {
                        0 => chars[index] = replacement,
                        1 => chars.insert(index, replacement),
                        _ => {
                            chars.remove(index);
                        }
                    }
                }
                let mutated: String = chars.into_iter().collect();
                let _ = parse_challenges(&mutated);
            }
        }
    }
}
