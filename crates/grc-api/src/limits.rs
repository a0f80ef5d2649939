//! Query limits, checked in one extension: tokens before parsing, aliases after parsing, depth
//! and complexity from the validation result. Each failure is `QUERY_TOO_COMPLEX`; a document
//! that does not parse or validate is `BAD_USER_INPUT`. The extension also records which phase
//! failed, so the HTTP layer can answer 400.

use crate::errors::ErrorCode;
use crate::graphql::SchemaLimits;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Whether a request failed before execution (0: no; 1: rejected).
#[derive(Debug, Default)]
pub struct RequestPhase(AtomicU8);

impl RequestPhase {
    const REJECTED: u8 = 1;

    /// Whether the document was rejected before execution (parse, validation or a limit).
    pub fn rejected(&self) -> bool {
        self.0.load(Ordering::Relaxed) == Self::REJECTED
    }
    fn reject(&self) {
        self.0.store(Self::REJECTED, Ordering::Relaxed);
    }
}

fn error(code: ErrorCode, message: impl Into<String>) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    e.extensions = Some(ext);
    e
}

/// The extension factory.
#[derive(Debug, Clone, Copy)]
pub struct Limits(SchemaLimits);

impl Limits {
    pub fn new(limits: SchemaLimits) -> Self {
        Self(limits)
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(SchemaLimits);

fn mark(ctx: &ExtensionContext<'_>) {
    if let Some(p) = ctx.data_opt::<Arc<RequestPhase>>() {
        p.reject();
    }
}

/// Codes for errors async-graphql raised itself (parse and validation errors carry none).
fn with_code(mut errors: Vec<ServerError>, code: ErrorCode) -> Vec<ServerError> {
    for e in &mut errors {
        let has = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", code.as_str());
        }
    }
    errors
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if count_tokens(query, self.0.max_tokens).is_none() {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!("the document has more than {} tokens", self.0.max_tokens),
            ));
        }
        let bad_input = |mut e: ServerError| {
            mark(ctx);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::BadUserInput.as_str());
            e
        };
        // Parse once here and check the size before async-graphql's own parse step, whose
        // recursion check expands every fragment spread (exponential on a crafted document).
        let doc = async_graphql::parser::parse_query(query)
            .map_err(|e| bad_input(ServerError::from(e)))?;
        // The fields the document expands to, fragments included, counted in time linear in
        // the document (each fragment once): a small document whose fragments spread into
        // each other cannot make validation expand it exponentially.
        // Up to EXPANSION_GUARD fields validate quickly; the exact complexity limit is checked
        // after validation.
        let guard = self.0.max_complexity.max(EXPANSION_GUARD);
        if count_expanded_fields(&doc) > guard {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document expands to more than {guard} fields: its complexity is over the limit"
                ),
            ));
        }
        if max_directives_on_one_node(&doc) > MAX_DIRECTIVES {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!("at most {MAX_DIRECTIVES} directives are allowed on one field or fragment"),
            ));
        }
        // Over the websocket only subscriptions are served: a socket's credential was checked
        // when it opened, and each query or mutation must be authenticated (and rate limited)
        // on its own, over `POST /graphql`.
        if ctx
            .data_opt::<crate::graphql::subscription::SocketCredential>()
            .is_some()
            && doc.operations.iter().any(|(_, o)| {
                o.node.ty != async_graphql::parser::types::OperationType::Subscription
            })
        {
            mark(ctx);
            return Err(error(
                ErrorCode::BadUserInput,
                "only subscriptions are served over the websocket; send queries and mutations to POST /graphql",
            ));
        }
        let aliases = count_aliases(&doc);
        if aliases > self.0.max_aliases {
            mark(ctx);
            return Err(error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document has {aliases} aliases; at most {} are allowed",
                    self.0.max_aliases
                ),
            ));
        }
        drop(doc);
        next.run(ctx, query, variables).await.map_err(bad_input)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            mark(ctx);
            with_code(errors, ErrorCode::BadUserInput)
        })?;
        if result.depth > self.0.max_depth {
            mark(ctx);
            return Err(vec![error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query is {} levels deep; at most {} are allowed",
                    result.depth, self.0.max_depth
                ),
            )]);
        }
        if result.complexity > self.0.max_complexity {
            mark(ctx);
            return Err(vec![error(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query's complexity is {}; at most {} is allowed",
                    result.complexity, self.0.max_complexity
                ),
            )]);
        }
        Ok(result)
    }
}

fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => walk(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|f| walk(&f.node.selection_set.node)),
        )
        .sum()
}

/// The expanded size up to which validation (which expands every fragment spread) is cheap.
const EXPANSION_GUARD: usize = 10_000;
/// Directives allowed on one field, fragment spread or inline fragment.
const MAX_DIRECTIVES: usize = 20;

/// The most directives on any one selection, each fragment read once (async-graphql's own check
/// expands fragment spreads, which costs exponential time on a crafted document).
fn max_directives_on_one_node(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => f
                    .node
                    .directives
                    .len()
                    .max(walk(&f.node.selection_set.node)),
                Selection::InlineFragment(i) => i
                    .node
                    .directives
                    .len()
                    .max(walk(&i.node.selection_set.node)),
                Selection::FragmentSpread(sp) => sp.node.directives.len(),
            })
            .max()
            .unwrap_or(0)
    }
    doc.operations
        .iter()
        .map(|(_, op)| {
            op.node
                .directives
                .len()
                .max(walk(&op.node.selection_set.node))
        })
        .chain(doc.fragments.values().map(|f| {
            f.node
                .directives
                .len()
                .max(walk(&f.node.selection_set.node))
        }))
        .max()
        .unwrap_or(0)
}

/// How many fields the document selects once every fragment spread is expanded, saturating.
/// Each fragment is counted once (memoized); a spread cycle counts as nothing here and is left
/// for validation to refuse.
fn count_expanded_fields(doc: &ExecutableDocument) -> usize {
    use std::collections::{HashMap, HashSet};
    struct Counter<'a> {
        doc: &'a ExecutableDocument,
        memo: HashMap<&'a str, usize>,
        visiting: HashSet<&'a str>,
    }
    impl<'a> Counter<'a> {
        fn set(&mut self, set: &'a SelectionSet) -> usize {
            set.items.iter().fold(0usize, |acc, s| {
                let n = match &s.node {
                    Selection::Field(f) => {
                        1usize.saturating_add(self.set(&f.node.selection_set.node))
                    }
                    Selection::InlineFragment(i) => self.set(&i.node.selection_set.node),
                    Selection::FragmentSpread(spread) => {
                        self.fragment(spread.node.fragment_name.node.as_str())
                    }
                };
                acc.saturating_add(n)
            })
        }
        fn fragment(&mut self, name: &'a str) -> usize {
            if let Some(n) = self.memo.get(name) {
                return *n;
            }
            if !self.visiting.insert(name) {
                return 0;
            }
            let n = self
                .doc
                .fragments
                .iter()
                .find(|(k, _)| k.as_str() == name)
                .map_or(0, |(_, f)| self.set(&f.node.selection_set.node));
            self.visiting.remove(name);
            self.memo.insert(name, n);
            n
        }
    }
    let mut c = Counter {
        doc,
        memo: HashMap::new(),
        visiting: HashSet::new(),
    };
    doc.operations.iter().fold(0usize, |acc, (_, op)| {
        acc.saturating_add(c.set(&op.node.selection_set.node))
    })
}

/// Counts the lexical tokens of a GraphQL document, stopping at `max`: `None` when there are
/// more. Ignored tokens (white space, commas, comments) do not count; a malformed document is
/// counted as far as it goes and left for the parser to refuse.
pub fn count_tokens(src: &str, max: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut n = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if b[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'0'..=b'9' => {
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        n += 1;
        if n > max {
            return None;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(count_tokens("{ viewer { user { id } } }", 100), Some(9));
        assert_eq!(
            count_tokens("query Q($a: Int = -1.5e3) { f(a: $a) }", 100),
            Some(19)
        );
        assert_eq!(count_tokens("# comment\n{ a, b }", 100), Some(4));
        assert_eq!(
            count_tokens(r#"{ f(s: "a \" b", t: """x "" y""") }"#, 100),
            Some(11)
        );
        assert_eq!(count_tokens("{ ...F }", 100), Some(4));
        assert_eq!(count_tokens(&"{ a ".repeat(50), 99), None);
        assert_eq!(count_tokens("", 1), Some(0));
    }

    #[test]
    fn expanded_fields_are_counted_once_per_fragment() {
        let doc = async_graphql::parser::parse_query(
            "{ a { ...F ...F } } fragment F on T { b c { ...G } } fragment G on T { d e }",
        )
        .expect("parses");
        // a + 2 × F, where F = b + c + G = 1 + 1 + 2 = 4.
        assert_eq!(count_expanded_fields(&doc), 9);
        // Ten spreads per level over twelve levels: 10^12 fields, counted without expanding.
        let mut q = String::from("{ a { ...F0 } }");
        for i in 0..12 {
            q.push_str(&format!(
                " fragment F{i} on T {{ {} }}",
                format!("...F{} ", i + 1).repeat(10)
            ));
        }
        q.push_str(" fragment F12 on T { x }");
        let doc = async_graphql::parser::parse_query(&q).expect("parses");
        assert_eq!(count_expanded_fields(&doc), 1 + 10usize.pow(12));
        // A cycle does not loop.
        let doc = async_graphql::parser::parse_query("{ a { ...F } } fragment F on T { b ...F }")
            .expect("parses");
        assert_eq!(count_expanded_fields(&doc), 2);
    }

    #[test]
    fn aliases() {
        let doc = async_graphql::parser::parse_query(
            "{ a: viewer { b: user { id } } ...F } fragment F on Query { c: tenant { id } }",
        )
        .expect("parses");
        assert_eq!(count_aliases(&doc), 3);
    }
}
