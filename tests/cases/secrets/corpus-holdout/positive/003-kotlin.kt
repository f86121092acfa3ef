val stripe = StripeClient("rk_live_t2BYNnU7iyyTHkuBuxlBWPypeXvoVbyG")
