var chunks = {"main": "4b4cf40c4b9ebb2ba693", "vendor": "8c40a22a198f9e213758"};
