const express = require('express');
const app = express();
const port = process.env.PORT || 3000;
app.get('/', (req, res) => res.send('hello from express'));
app.get('/health', (req, res) => res.json({ status: 'ok' }));
app.listen(port, () => console.log(`listening on ${port}`));
