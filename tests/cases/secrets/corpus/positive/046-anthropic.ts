const anthropic = new Anthropic({ apiKey: "sk-ant-api03-dUoRBDU-hZEDXfQdImJm0UZNNYeYmhW8rXEi-MycEY8ekxqidzCMPiyE10NqvdfDKF3leEhaKhmZW_95i-2a_28JNlZN4AA" });
