//! The `graph` pass: the step DAG.
//!
//! Edges come from three sources: data (a step reads another's output), `needs:`, and effect order (a write
//! stays after earlier reads and writes, a read stays after earlier writes), so that running the graph gives
//! the same result as running the steps one by one in file order, while independent reads and pure
//! computations become parallel branches. The graph is then transitively reduced and cut into levels.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use connectors::Effect;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::plan::{EdgeReason, StepIndex};

/// What the graph pass needs to know of one step.
#[derive(Debug, Clone)]
pub struct StepDeps {
    pub effect: Effect,
    /// Steps whose output this step reads.
    pub data: BTreeSet<StepIndex>,
    /// Steps named in `needs:`.
    pub needs: BTreeSet<StepIndex>,
}

/// The scheduling result: reduced graph, levels and each step's direct predecessors.
#[derive(Debug, Clone)]
pub struct StepGraph {
    pub graph: DiGraph<StepIndex, EdgeReason>,
    pub levels: Vec<Vec<StepIndex>>,
    pub predecessors: Vec<Vec<StepIndex>>,
}

/// A dependency cycle, as the steps along it: `[a, b]` means `a -> b -> a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<StepIndex>);

/// Build the reduced DAG, or every dependency cycle found (one per strongly connected component).
pub fn build_graph(steps: &[StepDeps]) -> Result<StepGraph, Vec<Cycle>> {
    let mut edges = declared_edges(steps);
    let cycles = find_cycles(steps.len(), &edges);
    if !cycles.is_empty() {
        return Err(cycles);
    }
    let order = stable_topological_order(steps.len(), &edges);
    add_effect_edges(steps, &order, &mut edges);
    let reduced = transitive_reduction(steps.len(), &edges, &order);
    Ok(assemble(steps.len(), &reduced, &order))
}

/// Data and `needs` edges, keyed by `(from, to)`. Data wins when both apply: it says more.
fn declared_edges(steps: &[StepDeps]) -> HashMap<(StepIndex, StepIndex), EdgeReason> {
    let mut edges = HashMap::new();
    for (to, step) in steps.iter().enumerate() {
        for &from in &step.needs {
            edges.insert((from, to), EdgeReason::Needs);
        }
        for &from in &step.data {
            edges.insert((from, to), EdgeReason::Data);
        }
    }
    edges
}

fn adjacency(count: usize, edges: &HashMap<(StepIndex, StepIndex), EdgeReason>) -> Vec<Vec<StepIndex>> {
    let mut out = vec![Vec::new(); count];
    for &(from, to) in edges.keys() {
        out[from].push(to);
    }
    for list in &mut out {
        list.sort_unstable();
    }
    out
}

/// One cycle per strongly connected component that has one (a self-loop counts).
fn find_cycles(count: usize, edges: &HashMap<(StepIndex, StepIndex), EdgeReason>) -> Vec<Cycle> {
    let out = adjacency(count, edges);
    let mut graph = DiGraph::<(), ()>::with_capacity(count, edges.len());
    for _ in 0..count {
        graph.add_node(());
    }
    for (from, targets) in out.iter().enumerate() {
        for &to in targets {
            graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
    }
    let mut cycles: Vec<Cycle> = petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter_map(|component| {
            let members: BTreeSet<StepIndex> = component.iter().map(|n| n.index()).collect();
            let first = *members.first()?;
            let is_cycle = members.len() > 1 || out[first].contains(&first);
            is_cycle.then(|| cycle_within(first, &members, &out))
        })
        .collect();
    cycles.sort_by_key(|cycle| cycle.0.first().copied());
    cycles
}

/// A path from `start` back to itself that stays inside one strongly connected component.
fn cycle_within(start: StepIndex, members: &BTreeSet<StepIndex>, out: &[Vec<StepIndex>]) -> Cycle {
    // Breadth-first from `start` to find the shortest way back: the message stays short.
    let mut parent: HashMap<StepIndex, StepIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &out[node] {
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return Cycle(path);
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = parent.entry(next) {
                entry.insert(node);
                queue.push_back(next);
            }
        }
    }
    Cycle(vec![start])
}

/// Kahn's algorithm, always taking the earliest step in the file among the ready ones: the order the steps
/// would run in one at a time, and the file order itself when no `needs:` points forward.
fn stable_topological_order(count: usize, edges: &HashMap<(StepIndex, StepIndex), EdgeReason>) -> Vec<StepIndex> {
    let out = adjacency(count, edges);
    let mut missing = vec![0usize; count];
    for &(_, to) in edges.keys() {
        missing[to] += 1;
    }
    let mut ready: BinaryHeap<Reverse<StepIndex>> = (0..count).filter(|&i| missing[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(Reverse(step)) = ready.pop() {
        order.push(step);
        for &next in &out[step] {
            missing[next] -= 1;
            if missing[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    order
}

/// Effect-order edges along `order`: each read after the last write, each write after the last write and the
/// reads since. Earlier steps are covered transitively through that chain of writes.
fn add_effect_edges(steps: &[StepDeps], order: &[StepIndex], edges: &mut HashMap<(StepIndex, StepIndex), EdgeReason>) {
    let mut last_write: Option<StepIndex> = None;
    let mut reads_since_write: Vec<StepIndex> = Vec::new();
    for &step in order {
        match steps[step].effect {
            Effect::Pure => {}
            Effect::Read => {
                if let Some(write) = last_write {
                    edges.entry((write, step)).or_insert(EdgeReason::EffectOrder);
                }
                reads_since_write.push(step);
            }
            Effect::Write => {
                for from in last_write.into_iter().chain(reads_since_write.drain(..)) {
                    edges.entry((from, step)).or_insert(EdgeReason::EffectOrder);
                }
                last_write = Some(step);
            }
        }
    }
}

/// The edges of the transitive reduction, with their reasons.
///
/// Each step's ancestors are a bit set, filled in topological order: a direct predecessor is redundant when it
/// is already an ancestor of a later predecessor (those are visited first). O(V + E * V / 64) time and V * V / 8
/// bytes; petgraph's `tred` computes the full closure as lists, which is quadratic in edges on long chains
/// (18 ms for a 1,000-step chain against well under 1 ms here). Tests check both agree.
fn transitive_reduction(
    count: usize,
    edges: &HashMap<(StepIndex, StepIndex), EdgeReason>,
    order: &[StepIndex],
) -> Vec<(StepIndex, StepIndex, EdgeReason)> {
    let mut rank = vec![0usize; count];
    for (position, &step) in order.iter().enumerate() {
        rank[step] = position;
    }
    let mut predecessors = vec![Vec::new(); count];
    for &(from, to) in edges.keys() {
        predecessors[to].push(from);
    }
    let words = count.div_ceil(64);
    let mut ancestors = vec![0u64; count * words];
    let mut kept = Vec::with_capacity(edges.len());
    let mut covered = vec![0u64; words];
    for &step in order {
        covered.fill(0);
        let incoming = &mut predecessors[step];
        incoming.sort_unstable_by_key(|&p| Reverse(rank[p]));
        for &from in incoming.iter() {
            if covered[from / 64] & (1 << (from % 64)) != 0 {
                continue;
            }
            kept.push((from, step, edges[&(from, step)]));
            let from_ancestors = &ancestors[from * words..(from + 1) * words];
            for (word, ancestor) in covered.iter_mut().zip(from_ancestors) {
                *word |= ancestor;
            }
            covered[from / 64] |= 1 << (from % 64);
        }
        ancestors[step * words..(step + 1) * words].copy_from_slice(&covered);
    }
    kept.sort_unstable_by_key(|&(from, to, _)| (from, to));
    kept
}

fn assemble(count: usize, reduced: &[(StepIndex, StepIndex, EdgeReason)], order: &[StepIndex]) -> StepGraph {
    let mut graph = DiGraph::with_capacity(count, reduced.len());
    for index in 0..count {
        graph.add_node(index);
    }
    let mut predecessors = vec![Vec::new(); count];
    for &(from, to, reason) in reduced {
        graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), reason);
        predecessors[to].push(from);
    }
    let mut depth = vec![0usize; count];
    for &step in order {
        depth[step] = predecessors[step].iter().map(|&p| depth[p] + 1).max().unwrap_or(0);
    }
    let level_count = depth.iter().map(|d| d + 1).max().unwrap_or(0);
    let mut levels = vec![Vec::new(); level_count];
    for (step, &d) in depth.iter().enumerate() {
        levels[d].push(step);
    }
    StepGraph { graph, levels, predecessors }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(effect: Effect, data: &[StepIndex], needs: &[StepIndex]) -> StepDeps {
        StepDeps { effect, data: data.iter().copied().collect(), needs: needs.iter().copied().collect() }
    }

    fn edge_list(graph: &StepGraph) -> Vec<(StepIndex, StepIndex, EdgeReason)> {
        let mut list: Vec<_> = graph
            .graph
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = graph.graph.edge_endpoints(e)?;
                Some((a.index(), b.index(), graph.graph[e]))
            })
            .collect();
        list.sort_by_key(|&(a, b, _)| (a, b));
        list
    }

    #[test]
    fn transitive_reduction_drops_an_edge_implied_by_a_path() {
        // 2 reads both 0 and 1, 1 reads 0: the edge 0 -> 2 is implied by 0 -> 1 -> 2.
        let steps = [step(Effect::Pure, &[], &[]), step(Effect::Pure, &[0], &[]), step(Effect::Pure, &[0, 1], &[])];
        let graph = build_graph(&steps).expect("acyclic");
        assert_eq!(edge_list(&graph), vec![(0, 1, EdgeReason::Data), (1, 2, EdgeReason::Data)]);
        assert_eq!(graph.predecessors[2], vec![1]);
        assert_eq!(graph.levels, vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn independent_reads_share_one_level() {
        let steps = [step(Effect::Read, &[], &[]), step(Effect::Read, &[], &[]), step(Effect::Read, &[], &[])];
        let graph = build_graph(&steps).expect("acyclic");
        assert!(edge_list(&graph).is_empty());
        assert_eq!(graph.levels, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn a_write_waits_for_earlier_reads_and_a_later_read_waits_for_it() {
        let steps = [
            step(Effect::Read, &[], &[]),
            step(Effect::Read, &[], &[]),
            step(Effect::Write, &[], &[]),
            step(Effect::Read, &[], &[]),
            step(Effect::Pure, &[], &[]),
        ];
        let graph = build_graph(&steps).expect("acyclic");
        assert_eq!(
            edge_list(&graph),
            vec![(0, 2, EdgeReason::EffectOrder), (1, 2, EdgeReason::EffectOrder), (2, 3, EdgeReason::EffectOrder)]
        );
        assert_eq!(graph.levels, vec![vec![0, 1, 4], vec![2], vec![3]]);
    }

    #[test]
    fn writes_keep_file_order_through_a_chain() {
        let steps = [step(Effect::Write, &[], &[]), step(Effect::Write, &[], &[]), step(Effect::Write, &[], &[])];
        let graph = build_graph(&steps).expect("acyclic");
        assert_eq!(edge_list(&graph), vec![(0, 1, EdgeReason::EffectOrder), (1, 2, EdgeReason::EffectOrder)]);
    }

    #[test]
    fn effect_order_follows_a_forward_needs() {
        // Step 0 needs step 1 (later in the file): both write, so 1 runs first and 0 after it, no cycle.
        let steps = [step(Effect::Write, &[], &[1]), step(Effect::Write, &[], &[])];
        let graph = build_graph(&steps).expect("acyclic");
        assert_eq!(edge_list(&graph), vec![(1, 0, EdgeReason::Needs)]);
    }

    #[test]
    fn a_needs_cycle_is_reported_with_its_steps() {
        let steps = [step(Effect::Pure, &[], &[2]), step(Effect::Pure, &[0], &[]), step(Effect::Pure, &[1], &[])];
        let cycles = build_graph(&steps).expect_err("cyclic");
        assert_eq!(cycles, vec![Cycle(vec![0, 1, 2])]);
    }

    #[test]
    fn a_step_needing_itself_is_a_cycle() {
        let steps = [step(Effect::Pure, &[], &[0])];
        assert_eq!(build_graph(&steps).expect_err("cyclic"), vec![Cycle(vec![0])]);
    }

    /// petgraph's own transitive reduction, as the oracle.
    fn petgraph_reduction(count: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
        use petgraph::algo::tred::{dag_to_toposorted_adjacency_list, dag_transitive_reduction_closure};
        use petgraph::visit::IntoNeighbors;
        let mut graph = DiGraph::<(), ()>::new();
        for _ in 0..count {
            graph.add_node(());
        }
        for &(a, b) in edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
        let topo = petgraph::algo::toposort(&graph, None).expect("acyclic");
        let (list, _) = dag_to_toposorted_adjacency_list::<_, u32>(&graph, &topo);
        let (reduced, _) = dag_transitive_reduction_closure(&list);
        let mut kept = Vec::new();
        for rank in 0..topo.len() {
            for next in (&reduced).neighbors(rank as u32) {
                kept.push((topo[rank].index(), topo[next as usize].index()));
            }
        }
        kept.sort_unstable();
        kept
    }

    proptest::proptest! {
        #[test]
        fn reduction_matches_petgraph_tred_on_random_dags(
            count in 1usize..40,
            raw in proptest::collection::vec((0usize..40, 0usize..40), 0..120),
        ) {
            // Edges always go from a lower to a higher index: acyclic by construction.
            let edges: Vec<(usize, usize)> = raw
                .into_iter()
                .map(|(a, b)| (a % count, b % count))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let steps: Vec<StepDeps> = (0..count)
                .map(|to| step(Effect::Pure, &edges.iter().filter(|e| e.1 == to).map(|e| e.0).collect::<Vec<_>>(), &[]))
                .collect();
            let graph = build_graph(&steps).expect("acyclic");
            let ours: Vec<(usize, usize)> = edge_list(&graph).into_iter().map(|(a, b, _)| (a, b)).collect();
            proptest::prop_assert_eq!(ours, petgraph_reduction(count, &edges));
        }
    }
}
