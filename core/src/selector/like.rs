//! `LIKE` patterns, compiled once when the selector is parsed.
//!
//! A pattern is split at its `%` wildcards into segments. The first segment must match at
//! the start of the value, the last at the end, and each one in between is matched at
//! its leftmost position after the previous one. Leftmost matching is always safe for
//! the segments in between (any later match leaves less room, never more), so there is
//! no backtracking: usually a match is one `starts_with`, `find` or `ends_with`, and a
//! segment in between that holds a `_` is found in one pass over the value (Shift-And,
//! see [`Finder`]), so a match costs at most (value length x segment length / 64) word
//! operations. Every character other than `%` and `_` is literal; there is no regex
//! engine to escape anything for.

use std::collections::HashMap;
use std::fmt;

/// The most characters a segment holding a `_` may have. Finding one keeps a bit mask of
/// its length per distinct character in it, and costs a word operation per 64 of its
/// characters for each character of the value.
pub(crate) const MAX_MIXED_SEGMENT: usize = 4096;

/// One character position of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Char(char),
    /// `_`: exactly one character, whatever it is.
    One,
}

/// The text between two `%`s (or a pattern end).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// No `_` in it: plain substring operations apply.
    Literal(Box<str>),
    Mixed(Box<[Item]>, Finder),
}

/// Shift-And (bitap) search for a segment holding `_`s: bit `i` of the state is set when
/// the last `i + 1` characters read match the segment's first `i + 1` items, so one pass
/// over the value finds where the first match ends. Every match of a segment has the
/// same number of characters, so the first to end is also the leftmost.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Finder {
    /// Items in the segment (at least one: a `_`).
    len: usize,
    /// Bits of the positions holding `_`, which every character matches.
    any: Box<[u64]>,
    /// Per character in the segment: its positions and those of `_`.
    masks: HashMap<char, Box<[u64]>>,
}

impl Finder {
    fn new(items: &[Item]) -> Finder {
        let words = items.len().div_ceil(64).max(1);
        let bit = |i: usize| (i / 64, 1u64 << (i % 64));
        let mut any = vec![0u64; words].into_boxed_slice();
        for (i, item) in items.iter().enumerate() {
            if *item == Item::One {
                let (w, b) = bit(i);
                any[w] |= b;
            }
        }
        let mut masks: HashMap<char, Box<[u64]>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Item::Char(c) = item {
                let (w, b) = bit(i);
                masks.entry(*c).or_insert_with(|| any.clone())[w] |= b;
            }
        }
        Finder { len: items.len(), any, masks }
    }

    /// Where the first match in `s` at or after byte `from` ends.
    fn find_from(&self, s: &str, from: usize) -> Option<usize> {
        let rest = s.get(from..)?;
        let last = self.len.checked_sub(1)?;
        let (last_word, last_bit) = (last / 64, 1u64 << (last % 64));
        // One word covers segments of up to 64 items, which is nearly all: no allocation
        // per evaluation for them.
        let (mut one, mut many);
        let state: &mut [u64] = if self.any.len() == 1 {
            one = [0u64; 1];
            &mut one
        } else {
            many = vec![0u64; self.any.len()];
            &mut many
        };
        for (i, c) in rest.char_indices() {
            let mask = self.masks.get(&c).unwrap_or(&self.any);
            // Shift the whole state up one position, start a match at position 0, and
            // keep only the positions this character may take.
            let mut carry = 1u64;
            for (word, m) in state.iter_mut().zip(mask.iter()) {
                let out = *word >> 63;
                *word = (*word << 1 | carry) & m;
                carry = out;
            }
            if state.get(last_word).is_some_and(|w| w & last_bit != 0) {
                return Some(from + i + c.len_utf8());
            }
        }
        None
    }
}

impl Segment {
    fn new(items: Vec<Item>) -> Segment {
        if items.contains(&Item::One) {
            let finder = Finder::new(&items);
            Segment::Mixed(items.into_boxed_slice(), finder)
        } else {
            Segment::Literal(
                items
                    .iter()
                    .filter_map(|item| match item {
                        Item::Char(c) => Some(*c),
                        Item::One => None,
                    })
                    .collect::<String>()
                    .into_boxed_str(),
            )
        }
    }

    /// Where a match starting at byte `at` of `s` ends, if it matches there.
    fn match_at(&self, s: &str, at: usize) -> Option<usize> {
        let rest = s.get(at..)?;
        match self {
            Segment::Literal(lit) => rest.starts_with(&**lit).then(|| at + lit.len()),
            Segment::Mixed(items, _) => {
                let mut chars = rest.char_indices();
                for item in items.iter() {
                    let (_, c) = chars.next()?;
                    if let Item::Char(expected) = item {
                        if c != *expected {
                            return None;
                        }
                    }
                }
                Some(chars.next().map_or(s.len(), |(i, _)| at + i))
            }
        }
    }

    /// Where the leftmost match at or after byte `from` ends.
    fn find_from(&self, s: &str, from: usize) -> Option<usize> {
        let rest = s.get(from..)?;
        match self {
            Segment::Literal(lit) => rest.find(&**lit).map(|i| from + i + lit.len()),
            Segment::Mixed(_, finder) => finder.find_from(s, from),
        }
    }

    /// Whether `s` ends with this segment, the match starting no earlier than byte `from`.
    fn matches_end(&self, s: &str, from: usize) -> bool {
        let Some(rest) = s.get(from..) else { return false };
        match self {
            Segment::Literal(lit) => rest.ends_with(&**lit),
            Segment::Mixed(items, _) => {
                // A segment matches a fixed number of characters, so there is exactly one
                // place it can start.
                let Some(back) = items.len().checked_sub(1) else { return true };
                match rest.char_indices().rev().nth(back) {
                    Some((i, _)) => self.match_at(s, from + i) == Some(s.len()),
                    None => false,
                }
            }
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Shape {
    /// No `%`: the single segment must match the whole value.
    Whole(Segment),
    Split {
        /// Before the first `%`; `None` when the pattern starts with `%`.
        head: Option<Segment>,
        middle: Box<[Segment]>,
        /// After the last `%`; `None` when the pattern ends with `%`.
        tail: Option<Segment>,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct LikePattern {
    source: Box<str>,
    shape: Shape,
}

impl fmt::Debug for LikePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LikePattern").field(&self.source).finish()
    }
}

impl LikePattern {
    /// Compiles `pattern`. With an `escape` character, that character followed by `%`,
    /// `_` or itself stands for the second character literally; followed by anything else
    /// (or nothing) it is an error, as in SQL, rather than a silent guess.
    pub(crate) fn compile(pattern: &str, escape: Option<char>) -> Result<LikePattern, String> {
        let mut segments: Vec<Vec<Item>> = vec![Vec::new()];
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let item = if Some(c) == escape {
                match chars.next() {
                    Some(next) if next == '%' || next == '_' || Some(next) == escape => {
                        Item::Char(next)
                    }
                    Some(next) => {
                        return Err(format!(
                            "escape character '{c}' must be followed by '%', '_' or itself, not '{next}'"
                        ))
                    }
                    None => {
                        return Err(format!("pattern ends with the escape character '{c}'"));
                    }
                }
            } else {
                match c {
                    '%' => {
                        segments.push(Vec::new());
                        continue;
                    }
                    '_' => Item::One,
                    c => Item::Char(c),
                }
            };
            if let Some(last) = segments.last_mut() {
                last.push(item);
            }
        }
        if let Some(long) =
            segments.iter().find(|s| s.len() > MAX_MIXED_SEGMENT && s.contains(&Item::One))
        {
            return Err(format!(
                "a part of the pattern between '%'s that holds '_' may have at most \
                 {MAX_MIXED_SEGMENT} characters, not {}",
                long.len()
            ));
        }
        let shape = if segments.len() == 1 {
            Shape::Whole(Segment::new(segments.pop().unwrap_or_default()))
        } else {
            let optional = |items: Vec<Item>| (!items.is_empty()).then(|| Segment::new(items));
            let tail = segments.pop().and_then(optional);
            let mut rest = segments.into_iter();
            let head = rest.next().and_then(optional);
            // Consecutive `%`s leave empty segments in between; they match anywhere.
            let middle = rest.filter_map(optional).collect();
            Shape::Split { head, middle, tail }
        };
        Ok(LikePattern { source: pattern.into(), shape })
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        match &self.shape {
            Shape::Whole(segment) => segment.match_at(s, 0) == Some(s.len()),
            Shape::Split { head, middle, tail } => {
                let mut at = match head {
                    Some(segment) => match segment.match_at(s, 0) {
                        Some(end) => end,
                        None => return false,
                    },
                    None => 0,
                };
                for segment in middle.iter() {
                    match segment.find_from(s, at) {
                        Some(end) => at = end,
                        None => return false,
                    }
                }
                tail.as_ref().is_none_or(|segment| segment.matches_end(s, at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LikePattern, MAX_MIXED_SEGMENT};

    fn like(pattern: &str, escape: Option<char>, s: &str) -> bool {
        match LikePattern::compile(pattern, escape) {
            Ok(p) => p.matches(s),
            Err(e) => panic!("pattern {pattern:?} did not compile: {e}"),
        }
    }

    /// A direct recursive definition, exponential but obviously right, to check the
    /// segment matcher against.
    fn reference(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| reference(rest, &s[i..])),
            Some(('_', rest)) => !s.is_empty() && reference(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    #[test]
    fn agrees_with_the_reference_definition() {
        let alphabet = ['a', 'b', '%', '_'];
        let values =
            ["", "a", "b", "ab", "ba", "aab", "abab", "bbba", "ababa", "aabba", "é", "aéb"];
        // Every pattern of up to five symbols over the alphabet.
        let mut level = vec![String::new()];
        let mut patterns = level.clone();
        for _ in 0..5 {
            level = level
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            patterns.extend(level.iter().cloned());
        }
        for pattern in &patterns {
            let p: Vec<char> = pattern.chars().collect();
            for value in values {
                let s: Vec<char> = value.chars().collect();
                assert_eq!(
                    like(pattern, None, value),
                    reference(&p, &s),
                    "{value:?} LIKE {pattern:?}"
                );
            }
        }
    }

    #[test]
    fn escapes() {
        assert!(like("100!%", Some('!'), "100%"));
        assert!(!like("100!%", Some('!'), "1000"));
        assert!(like("a!_b", Some('!'), "a_b"));
        assert!(!like("a!_b", Some('!'), "axb"));
        assert!(like("a!!b", Some('!'), "a!b"));
        assert!(like("%!%%", Some('!'), "50% off"));
        assert!(LikePattern::compile("a!b", Some('!')).is_err());
        assert!(LikePattern::compile("ab!", Some('!')).is_err());
    }

    #[test]
    fn long_segments_with_underscores_are_found_in_one_pass() {
        // A segment of 4000 items tried at each of 400,000 places would take 10^9 steps;
        // found in one pass it takes 400,000 x 63 word operations.
        let segment = format!("{}b", "a_".repeat(1999));
        let pattern = format!("%{segment}%");
        let value = "a".repeat(400_000);
        assert!(!like(&pattern, None, &value));
        assert!(like(&pattern, None, &format!("{value}{}b", "a".repeat(3997))));
        assert!(like(&format!("x%{segment}%y"), None, &format!("x{}by", "ac".repeat(1999))));
        // Longer ones are refused when the selector is parsed.
        let long = format!("%{}%", "_".repeat(MAX_MIXED_SEGMENT + 1));
        assert!(LikePattern::compile(&long, None).unwrap_err().contains("at most"));
        assert!(LikePattern::compile(&format!("%{}%", "a".repeat(100_000)), None).is_ok());
    }

    #[test]
    fn long_values_stay_fast() {
        let value = "a".repeat(20_000);
        assert!(!like("%a%a%a%a%a%a%a%a%b", None, &value));
        assert!(!like("%a_a_a_a_a_b%", None, &value));
        assert!(like("%a_a%", None, &value));
    }
}
