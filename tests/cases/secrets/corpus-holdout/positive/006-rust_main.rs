let client = Client::new("sk-ant-api03-AwMYbd84KLhnnjwNIZwR9BvjdXqfHl1K7dtrCFTvQnOB-3t1qC38S23XePVPgWJ3a1te21C2w2H-zWBZljtFwZ5bUmnKPAA");
