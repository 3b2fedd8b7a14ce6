//! The signed service record: signature image normalisation, HTML and PDF rendering, verification page.
