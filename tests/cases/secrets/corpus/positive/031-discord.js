const hook = 'https://discord.com/api/webhooks/445535215178818304/qqpTRacfr9RZr7Q0NMQGhXjbmQTWeDbU_VOG7Z107yBSPjaxpQh4UAOMAh5wUCr0xkYP';
