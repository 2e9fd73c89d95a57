import { render } from 'preact';
import { App } from './app';
import { ChatClient } from './client';
import './styles.css';

render(<App client={new ChatClient()} />, document.getElementById('app')!);
