const linear = new LinearClient({ apiKey: 'lin_api_mYSnDr2rDFY8wMYRiSwe7wQCnw7UjXawUBVrpTx7' });
