//! The matching engine of templates and URL patterns: a regular expression tree
//! ([`Node`]) compiled to a Thompson automaton ([`Program`]) and simulated over the input
//! one character at a time with every live thread in step (a Pike VM without captures).
//!
//! Each instruction is visited at most once per input position, so a match takes at most
//! `input chars × instructions` steps whatever the pattern: there is no backtracking to
//! blow up. The simulation counts its steps and gives up (not matching) past a budget.

pub use super::tree::{Class, Node};
use super::{UriMatchError, MAX_PROGRAM};

#[derive(Clone, Debug)]
enum Inst {
    Char(char),
    Class(usize),
    Any,
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled automaton that matches a whole input.
#[derive(Clone, Debug)]
pub struct Program {
    insts: Vec<Inst>,
    classes: Vec<Class>,
}

/// Why a match gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverBudget;

impl Program {
    /// Compiles `node`; `Err` (naming `what`) past [`MAX_PROGRAM`] instructions.
    pub fn compile(node: &Node, what: &str) -> Result<Self, UriMatchError> {
        let mut c = Compiler {
            prog: Program {
                insts: Vec::new(),
                classes: Vec::new(),
            },
        };
        c.emit_node(node).ok_or_else(|| too_big(what))?;
        c.push(Inst::Match).ok_or_else(|| too_big(what))?;
        Ok(c.prog)
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.insts.len()
    }

    /// Whether the program is empty (it never is: it ends with a match).
    pub fn is_empty(&self) -> bool {
        self.insts.is_empty()
    }

    /// Whether the whole of `input` matches, spending at most `*budget` steps (and
    /// taking what it spent off it). `Err` when the budget ran out first.
    pub fn matches(&self, input: &str, budget: &mut usize) -> Result<bool, OverBudget> {
        let n = self.insts.len();
        let mut current = Threads::new(n);
        let mut next = Threads::new(n);
        let mut stack = Vec::new();
        self.add(&mut current, 0, budget, &mut stack)?;
        for c in input.chars() {
            if current.list.is_empty() {
                return Ok(false);
            }
            next.clear();
            for i in 0..current.list.len() {
                let pc = current.list[i];
                let ok = match &self.insts[pc] {
                    Inst::Char(want) => *want == c,
                    Inst::Class(k) => self.classes[*k].contains(c),
                    Inst::Any => true,
                    _ => false,
                };
                if ok {
                    self.add(&mut next, pc + 1, budget, &mut stack)?;
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        Ok(current
            .list
            .iter()
            .any(|&pc| matches!(self.insts[pc], Inst::Match)))
    }

    /// Adds thread `pc` and everything it reaches without reading a character.
    fn add(
        &self,
        threads: &mut Threads,
        pc: usize,
        budget: &mut usize,
        stack: &mut Vec<usize>,
    ) -> Result<(), OverBudget> {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !threads.insert(pc) {
                continue;
            }
            let Some(left) = budget.checked_sub(1) else {
                stack.clear();
                return Err(OverBudget);
            };
            *budget = left;
            match self.insts[pc] {
                Inst::Jmp(to) => stack.push(to),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => threads.list.push(pc),
            }
        }
        Ok(())
    }
}

fn too_big(what: &str) -> UriMatchError {
    UriMatchError::new(
        what,
        format!("the selector compiles to more than {MAX_PROGRAM} instructions"),
    )
}

/// A sparse set of instruction indexes (the threads at one position) plus the list of
/// those that read a character or match.
struct Threads {
    seen: Vec<u32>,
    generation: u32,
    list: Vec<usize>,
}

impl Threads {
    fn new(n: usize) -> Self {
        Self {
            seen: vec![0; n],
            generation: 1,
            list: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.generation += 1;
    }

    fn insert(&mut self, pc: usize) -> bool {
        let fresh = self.seen[pc] != self.generation;
        self.seen[pc] = self.generation;
        fresh
    }
}

struct Compiler {
    prog: Program,
}

impl Compiler {
    fn push(&mut self, inst: Inst) -> Option<usize> {
        if self.prog.insts.len() >= MAX_PROGRAM {
            return None;
        }
        self.prog.insts.push(inst);
        Some(self.prog.insts.len() - 1)
    }

    fn pc(&self) -> usize {
        self.prog.insts.len()
    }

    fn patch(&mut self, at: usize, inst: Inst) {
        self.prog.insts[at] = inst;
    }

    fn emit_node(&mut self, node: &Node) -> Option<()> {
        match node {
            Node::Empty => {}
            Node::Char(c) => {
                self.push(Inst::Char(*c))?;
            }
            Node::Any => {
                self.push(Inst::Any)?;
            }
            Node::Class(class) => {
                self.prog.classes.push(class.clone());
                self.push(Inst::Class(self.prog.classes.len() - 1))?;
            }
            Node::Concat(parts) => {
                for part in parts {
                    self.emit_node(part)?;
                }
            }
            Node::Alt(alts) => self.emit_alt(alts)?,
            Node::Repeat { node, min, max } => self.emit_repeat(node, *min, *max)?,
        }
        Some(())
    }

    fn emit_alt(&mut self, alts: &[Node]) -> Option<()> {
        let Some((last, firsts)) = alts.split_last() else {
            return Some(());
        };
        let mut jumps = Vec::new();
        for alt in firsts {
            let split = self.push(Inst::Match)?;
            self.emit_node(alt)?;
            jumps.push(self.push(Inst::Match)?);
            let after = self.pc();
            self.patch(split, Inst::Split(split + 1, after));
        }
        self.emit_node(last)?;
        let end = self.pc();
        for j in jumps {
            self.patch(j, Inst::Jmp(end));
        }
        Some(())
    }

    fn emit_repeat(&mut self, node: &Node, min: u32, max: Option<u32>) -> Option<()> {
        for _ in 0..min {
            self.emit_node(node)?;
        }
        match max {
            None => {
                // L: split body, end; body; jmp L
                let split = self.push(Inst::Match)?;
                self.emit_node(node)?;
                self.push(Inst::Jmp(split))?;
                let end = self.pc();
                self.patch(split, Inst::Split(split + 1, end));
            }
            Some(max) => {
                let mut splits = Vec::new();
                for _ in min..max {
                    splits.push(self.push(Inst::Match)?);
                    self.emit_node(node)?;
                }
                let end = self.pc();
                for s in splits {
                    self.patch(s, Inst::Split(s + 1, end));
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(node: &Node, input: &str) -> bool {
        let p = Program::compile(node, "t").expect("compiles");
        let mut budget = usize::MAX;
        p.matches(input, &mut budget).expect("in budget")
    }

    #[test]
    fn the_engine_matches_whole_inputs() {
        let ab = Node::Concat(vec![Node::Char('a'), Node::star(Node::Char('b'))]);
        let cases = [("a", true), ("abbb", true), ("", false), ("ab c", false)];
        for (input, want) in cases {
            assert_eq!(run(&ab, input), want, "{input}");
        }
        let alt = Node::Alt(vec![Node::text("x"), Node::text("yz"), Node::Empty]);
        for (input, want) in [("x", true), ("yz", true), ("", true), ("y", false)] {
            assert_eq!(run(&alt, input), want, "{input}");
        }
        let bounded = Node::Repeat {
            node: Box::new(Node::Char('a')),
            min: 2,
            max: Some(3),
        };
        for (input, want) in [("a", false), ("aa", true), ("aaa", true), ("aaaa", false)] {
            assert_eq!(run(&bounded, input), want, "{input}");
        }
        let not_slash = Node::plus(Node::Class(Class {
            ranges: vec![('/', '/')],
            negated: true,
        }));
        assert!(run(&not_slash, "é1") && !run(&not_slash, "a/b"));
    }

    #[test]
    fn nested_stars_stay_linear_and_the_budget_stops_a_match() {
        // (a*)*b against a^n: exponential for a backtracker, n × |program| here.
        let node = Node::Concat(vec![
            Node::star(Node::star(Node::Char('a'))),
            Node::Char('b'),
        ]);
        let p = Program::compile(&node, "t").expect("compiles");
        let input = "a".repeat(5_000);
        let mut budget = 1_000_000;
        assert_eq!(p.matches(&input, &mut budget), Ok(false));
        assert!(
            1_000_000 - budget <= 5_001 * p.len(),
            "spent {}",
            1_000_000 - budget
        );
        let mut small = 100;
        assert_eq!(p.matches(&input, &mut small), Err(OverBudget));
    }

    #[test]
    fn programs_are_capped() {
        let huge = Node::Repeat {
            node: Box::new(Node::Char('a')),
            min: 0,
            max: Some(10_000),
        };
        let err = Program::compile(&huge, "a{0,10000}").expect_err("too big");
        assert!(err.to_string().contains("instructions"), "{err}");
    }
}
