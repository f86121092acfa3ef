const stripe = Stripe('pk_live_2ZOqnW6glw37AWJhykiZKDFh');
