// Per-class prices: exponential pricing with price limit and tatonnement (pricing seed section 5).
