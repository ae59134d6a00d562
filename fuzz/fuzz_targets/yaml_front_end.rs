//! Any bytes as a workflow file: decoding, the YAML front end, the whole compiler, both renderers and the outline
//! must never panic or overflow the stack, every diagnostic's span must lie inside the text, and every outline
//! edge must join two of its nodes.
#![no_main]

use compiler::model::YamlValue;
use compiler::render::{RenderOptions, render_file, to_json};
use connectors::catalogue::Catalogue;
use libfuzzer_sys::fuzz_target;

/// Built once: building it per input would dominate the run time.
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(Catalogue::builtin)
}

fuzz_target!(|data: &[u8]| {
    let source = match compiler::front_end::decode(data) {
        Ok(source) => source,
        Err(diagnostic) => {
            let text = String::from_utf8_lossy(data);
            let _ = render_file("fuzz.yaml", &text, &[diagnostic], RenderOptions::default());
            return;
        }
    };
    let (model, diagnostics) = compiler::parse_workflow(source);
    for diagnostic in &diagnostics {
        let span = diagnostic.primary.span;
        assert!(span.start <= span.end && span.end as usize <= source.len(), "span {span:?} outside the text");
    }
    if let Some(workflow) = &model {
        for step in workflow.steps.iter().chain(&workflow.on_failure) {
            for entry in step.input.iter().flat_map(|input| input.iter()) {
                if let YamlValue::String(text) = &entry.value.value {
                    // Any offset inside the value maps inside the scalar's content.
                    for offset in [0, text.value.len() / 2, text.value.len()] {
                        let at = text.file_offset(offset);
                        assert!(at >= text.span.start as usize && at <= text.span.end as usize);
                    }
                }
            }
        }
    }
    let _ = render_file("fuzz.yaml", source, &diagnostics, RenderOptions::default());
    let _ = to_json("fuzz.yaml", source, &diagnostics);
    let (_, all) = compiler::compile(source, "fuzz", catalogue());
    let _ = render_file("fuzz.yaml", source, &all, RenderOptions::default());
    let outline = compiler::outline(source, catalogue());
    for edge in &outline.edges {
        let known = |id: &str| outline.nodes.iter().any(|node| node.id == id);
        assert!(known(&edge.from) && known(&edge.to), "edge {edge:?} between unknown nodes");
    }
});
