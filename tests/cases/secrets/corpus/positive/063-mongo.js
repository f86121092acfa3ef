mongoose.connect('mongodb+srv://admin:WpNBFNhlWB1ul7@cluster0.ab12c.mongodb.net/shop');
