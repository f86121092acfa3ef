# from Stripe's docs
stripe.api_key = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'
