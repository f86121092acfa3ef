props.put("sasl.jaas.config", "PlainLoginModule required username=\"k\" password=\"VDmqoaBkUwzszC0gzjFyISNm\";");
