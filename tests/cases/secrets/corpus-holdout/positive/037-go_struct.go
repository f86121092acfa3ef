cfg := Config{Token: "glpat-qp-mBbd9mNsfHNq4cQDw"}
