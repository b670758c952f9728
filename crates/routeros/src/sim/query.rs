//! Query evaluation for the simulated router's `print`: the `?` words compiled once, then
//! run per item on a boolean stack that starts as infinitely many `true`s. An item matches
//! when no `false` is left on the stack.
//!
//! `?<` and `?>` compare as integers when both sides are integers, as bytes otherwise.
//! `?#N` pushes a copy of the value N places below the top (0 is the top).

use std::cmp::Ordering;

use super::model::Trap;
use crate::word::QueryWord;

#[derive(Debug, Clone)]
enum Op {
    Has(Vec<u8>),
    Lacks(Vec<u8>),
    Compare(Vec<u8>, Vec<u8>, Ordering),
    Stack(Vec<StackOp>),
}

#[derive(Debug, Clone, Copy)]
enum StackOp {
    Or,
    And,
    Not,
    Dup,
    Copy(usize),
}

/// A compiled query.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    ops: Vec<Op>,
}

/// Normalises a yes/no query value the way the router stores it.
fn normalize_bool(value: &[u8]) -> Vec<u8> {
    match value {
        b"yes" => b"true".to_vec(),
        b"no" => b"false".to_vec(),
        other => other.to_vec(),
    }
}

fn parse_stack_ops(ops: &[u8]) -> Result<Vec<StackOp>, Trap> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = ops.get(i) {
        i += 1;
        out.push(match c {
            b'|' => StackOp::Or,
            b'&' => StackOp::And,
            b'!' => StackOp::Not,
            b'.' => StackOp::Dup,
            b'0'..=b'9' => {
                let mut n = usize::from(c - b'0');
                while let Some(&d @ b'0'..=b'9') = ops.get(i) {
                    n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                    i += 1;
                }
                StackOp::Copy(n)
            }
            _ => {
                return Err(Trap::new(
                    Some(1),
                    format!("unknown query operation {}", char::from(c)),
                ));
            }
        });
    }
    Ok(out)
}

impl Filter {
    /// Compiles query words (each without its leading `?`). `is_bool` says which properties
    /// hold yes/no values.
    pub fn compile(words: &[Vec<u8>], is_bool: impl Fn(&[u8]) -> bool) -> Result<Self, Trap> {
        let mut ops = Vec::with_capacity(words.len());
        for word in words {
            let value = |name: &[u8], v: &[u8]| {
                if is_bool(name) {
                    normalize_bool(v)
                } else {
                    v.to_vec()
                }
            };
            ops.push(match QueryWord::parse(word) {
                QueryWord::Has(name) => Op::Has(name.to_vec()),
                QueryWord::Lacks(name) => Op::Lacks(name.to_vec()),
                QueryWord::Eq(name, v) => {
                    Op::Compare(name.to_vec(), value(name, v), Ordering::Equal)
                }
                QueryWord::Lt(name, v) => {
                    Op::Compare(name.to_vec(), value(name, v), Ordering::Less)
                }
                QueryWord::Gt(name, v) => {
                    Op::Compare(name.to_vec(), value(name, v), Ordering::Greater)
                }
                QueryWord::Ops(stack) => Op::Stack(parse_stack_ops(stack)?),
            });
        }
        Ok(Self { ops })
    }

    /// Whether an item matches; `lookup` gives a property's printed value.
    pub fn matches(&self, lookup: impl Fn(&[u8]) -> Option<Vec<u8>>) -> bool {
        if self.ops.is_empty() {
            return true;
        }
        let mut stack: Vec<bool> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            match op {
                Op::Has(name) => stack.push(lookup(name).is_some()),
                Op::Lacks(name) => stack.push(lookup(name).is_none()),
                Op::Compare(name, wanted, ordering) => {
                    stack
                        .push(lookup(name).is_some_and(|have| compare(&have, wanted) == *ordering));
                }
                Op::Stack(ops) => {
                    for op in ops {
                        apply(&mut stack, *op);
                    }
                }
            }
        }
        stack.iter().all(|&v| v)
    }
}

/// Applies one stack operation; values below the bottom are `true`.
fn apply(stack: &mut Vec<bool>, op: StackOp) {
    let pop = |stack: &mut Vec<bool>| stack.pop().unwrap_or(true);
    match op {
        StackOp::Or => {
            let (a, b) = (pop(stack), pop(stack));
            stack.push(a || b);
        }
        StackOp::And => {
            let (a, b) = (pop(stack), pop(stack));
            stack.push(a && b);
        }
        StackOp::Not => {
            let a = pop(stack);
            stack.push(!a);
        }
        StackOp::Dup => {
            let a = stack.last().copied().unwrap_or(true);
            stack.push(a);
        }
        StackOp::Copy(n) => {
            let value = stack
                .len()
                .checked_sub(n + 1)
                .and_then(|i| stack.get(i))
                .copied()
                .unwrap_or(true);
            stack.push(value);
        }
    }
}

fn compare(have: &[u8], wanted: &[u8]) -> Ordering {
    let number = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<i128>().ok())
    };
    match (number(have), number(wanted)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => have.cmp(wanted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(props: &'a [(&'a str, &'a str)]) -> impl Fn(&[u8]) -> Option<Vec<u8>> + 'a {
        move |name| {
            props
                .iter()
                .find(|(n, _)| n.as_bytes() == name)
                .map(|(_, v)| v.as_bytes().to_vec())
        }
    }

    fn filter(words: &[&str]) -> Filter {
        let words: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        Filter::compile(&words, |name| name == b"disabled").unwrap()
    }

    #[test]
    fn the_documented_not_ether_nor_vlan_query_works() {
        let query = filter(&["type=ether", "type=vlan", "#|!"]);
        assert!(!query.matches(item(&[("type", "ether")])));
        assert!(!query.matches(item(&[("type", "vlan")])));
        assert!(query.matches(item(&[("type", "bridge")])));
    }

    #[test]
    fn successive_equalities_are_anded() {
        let query = filter(&["=name=a", "=disabled=no"]);
        assert!(query.matches(item(&[("name", "a"), ("disabled", "false")])));
        assert!(!query.matches(item(&[("name", "a"), ("disabled", "true")])));
    }

    #[test]
    fn presence_absence_and_order_comparisons_work() {
        assert!(filter(&["comment"]).matches(item(&[("comment", "")])));
        assert!(!filter(&["-comment"]).matches(item(&[("comment", "x")])));
        assert!(filter(&["<bytes=100"]).matches(item(&[("bytes", "20")])));
        assert!(!filter(&[">bytes=100"]).matches(item(&[("bytes", "20")])));
        assert!(filter(&[">name=a"]).matches(item(&[("name", "b")])));
    }

    #[test]
    fn stack_operations_on_an_empty_stack_see_true() {
        assert!(filter(&["#|&."]).matches(item(&[])));
        assert!(!filter(&["#!"]).matches(item(&[])));
        assert!(!filter(&["name=x", "#0!"]).matches(item(&[("name", "y")])));
    }

    #[test]
    fn an_unknown_stack_operation_is_refused() {
        assert!(Filter::compile(&[b"#x".to_vec()], |_| false).is_err());
    }
}
