document.querySelector('#app')!.textContent = 'visionops dashboard';
