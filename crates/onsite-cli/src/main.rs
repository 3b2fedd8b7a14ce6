//! `onsite`: the headless demo of the product.

fn main() {
    println!("onsite: demo lands with the foundation issue");
}
