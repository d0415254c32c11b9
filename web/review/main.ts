document.querySelector('#app')!.textContent = 'visionops review';
