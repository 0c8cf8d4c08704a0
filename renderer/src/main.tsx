import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/app.js';
import { createStationClient, type SocketLike } from './station-client.js';
import './styles.css';
import './readability.css';

const client = createStationClient({
  station: (window as Window & { station?: unknown }).station,
  location: window.location,
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
});

const container = document.getElementById('root');
if (!container) throw new Error('renderer: #root is missing from index.html');
createRoot(container).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
