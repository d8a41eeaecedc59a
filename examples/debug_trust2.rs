use faultlens::resolve::{Mode, Resolver, ResolverConfig};
fn rows(p: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(p).unwrap().lines().map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        (v["text"].as_str().unwrap().to_owned(), v["label"].as_str().unwrap().to_owned())
    }).collect()
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let tr = rows(&a[1]); let te = rows(&a[2]);
    let h = tr.len() / 2;
    let t: Vec<&str> = tr[..h].iter().map(|r| r.0.as_str()).collect();
    let l: Vec<&str> = tr[..h].iter().map(|r| r.1.as_str()).collect();
    let r = Resolver::new(ResolverConfig::default()).unwrap();
    r.add_knowledge(&t, &l).unwrap();
    let mut seen = std::collections::HashSet::new();
    for x in &te {
        let res = r.resolve(&x.0, Mode::Similarity).unwrap();
        if res.reliable && seen.insert(x.1.clone()) {
            let s = &res.similar;
            println!("{:.3} sim {:.3} {:?} <- {} | {} || {}", res.confidence, s[0].similarity, res.solution, x.1, &x.0[..x.0.len().min(70)], &s[0].error[..s[0].error.len().min(60)]);
        }
    }
}
