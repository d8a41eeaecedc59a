use faultlens::{ClassifierConfig, TextClassifier};
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
    let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
    c.fit(&t, &l).unwrap();
    let q: Vec<&str> = te.iter().map(|r| r.0.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    for (p, r) in c.predict_many(&q).unwrap().iter().zip(&te) {
        if p.reliable && seen.insert(r.1.clone()) {
            let ex = tr[..h].iter().find(|x| x.1 == p.label).map(|x| x.0.as_str()).unwrap_or("");
            println!("{:.3} nov {:.3} {} | {} || {}", p.confidence, p.novelty, p.label, &r.0[..r.0.len().min(80)], &ex[..ex.len().min(80)]);
        }
    }
}
